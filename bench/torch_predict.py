#!/usr/bin/python3
"""PyTorch's side of lupi_predict_bench (bench/predict_bench.c): the
49-256-10 student and the 784-256-10 teacher (ReLU, default initialisation),
inputs uniform in [0, 1); per shape the single-sample latency (mean of a
loop of calls) and the batch throughput (one call on --batch rows), each
the median of --reps repetitions, as the C side measures them (--cpu 1: in process CPU time). Output:
probabilities (softmax), as lupi_model_predict(LUPI_PREDICT_OUTPUT). Prints
one JSON line. Run by bench/compare; needs python3-torch."""
import argparse, json, os, statistics, time


def mlp(torch, n_in):
    return torch.nn.Sequential(torch.nn.Linear(n_in, 256), torch.nn.ReLU(),
                               torch.nn.Linear(256, 10))


clock = time.perf_counter


def latency_us(F, model, x, calls):
    for i in range(100):
        F.softmax(model(x[i:i + 1]), 1)
    t0 = clock()
    n = x.shape[0]
    for i in range(calls):
        F.softmax(model(x[i % n:i % n + 1]), 1)
    return (clock() - t0) / calls * 1e6


def batch_rate(F, model, x):
    t0 = clock()
    F.softmax(model(x), 1)
    return x.shape[0] / (clock() - t0)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--batch", type=int, default=10000)
    p.add_argument("--reps", type=int, default=7)
    p.add_argument("--cpu", type=int, default=0,
                   help="1: process CPU time instead of wall clock")
    a = p.parse_args()
    global clock
    clock = time.process_time if a.cpu else time.perf_counter
    # Debian's torch calls OpenBLAS without telling it torch's thread count:
    # set before OpenBLAS loads, or its GEMMs run on every core
    os.environ.setdefault("OPENBLAS_NUM_THREADS", str(a.threads))
    import torch
    import torch.nn.functional as F
    torch.set_num_threads(a.threads)
    torch.set_grad_enabled(False)
    torch.manual_seed(0)
    out = {"peer": "pytorch " + torch.__version__, "threads": a.threads,
           "batch": a.batch, "clock": "cpu" if a.cpu else "wall"}
    for name, d, calls in (("student", 49, 20000), ("teacher", 784, 2000)):
        model = mlp(torch, d).eval()
        x = torch.rand(a.batch, d)
        batch_rate(F, model, x)  # warm-up
        lat, rate = [], []
        for _ in range(a.reps):
            lat.append(latency_us(F, model, x, calls))
            rate.append(batch_rate(F, model, x))
        out[name + "_predict_latency_us"] = statistics.median(lat)
        out[name + "_batch_samples_per_s"] = statistics.median(rate)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
