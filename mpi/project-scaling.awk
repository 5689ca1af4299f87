# The projection of doc/scaling.md: awk -f mpi/project-scaling.awk
# Inputs: t1 = seconds per step on 1 rank (global batch B), S = bytes per
# step, a = latency per message (s), bw = bytes/s of one link (from the
# 2-rank minimum: at p = 2 the ring moves S once, T = S / bw). Other
# measurements: -v steps=STEPS_PER_S_AT_1_RANK -v min_us=ALLREDUCE_MIN_US
BEGIN {
  if (!steps) steps = 44.3; if (!min_us) min_us = 126.4
  t1 = 1 / steps; S = 1077288; a = 1.0e-6; bw = S / (min_us * 1e-6); B = 256
  printf "%5s %8s %10s %10s %10s %8s %8s\n", "ranks", "rows/rk", "compute_ms", "allred_ms", "steps/s", "comm", "speedup"
  n = split("1 2 8 64 512", P, " ")
  for (i = 1; i <= n; i++) {
    p = P[i]; b = B / p
    tc = t1 / p
    ta = p > 1 ? 2 * (p - 1) * a + 2 * (p - 1) / p * S / bw : 0
    printf "%5d %8g %10.3f %10.3f %10.1f %7.0f%% %8.1f\n", p, b, 1e3 * tc, 1e3 * ta, 1 / (tc + ta), 100 * ta / (tc + ta), t1 / (tc + ta)
  }
  printf "bandwidth %.2f GB/s; compute = allreduce at p = %.0f\n", bw / 1e9, t1 / (2 * S / bw)
}
