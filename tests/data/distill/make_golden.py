#!/usr/bin/python3
"""Golden values for liblupi's distillation losses, from PyTorch.

An independent reference for tests/unit/distill: every loss is written here
directly from its paper / the authors' code with torch operations
(F.log_softmax, F.kl_div, F.cross_entropy, F.smooth_l1_loss, F.normalize),
in float64, and differentiated by autograd. Inputs are float32 values,
printed with 9 significant digits so that C reads back the same floats.

Run:  /usr/bin/python3 tests/data/distill/make_golden.py > tests/data/distill/golden.txt

Format (one case per block, read by tests/unit/distill/golden.h):
  case NAME
  kind K | feature F          loss kind, or feature-loss kind
  int KEY VALUE               lupi_loss_set_int
  double KEY VALUE            lupi_loss_set_double
  <array> v1 v2 ...           n k ds dt s t labels targets weights mask cols
                              fs ft W b value grad
  end
"""
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
gen = torch.Generator().manual_seed(20261127)

# Frozen constants of include/lupi.h
HARD, KD, LOGITS, SEL, REGRESSION = 0, 1, 2, 3, 4
CE, KL, RKL, JS = 0, 1, 2, 3
F_NONE, F_DROP, F_CONF = 0, 1, 2
HINT, RKD_D, RKD_A, PKT, SP = 1, 2, 3, 4, 5
# Option keys (API 0.2: LUPI_LOSS_OPT_*, handle 2 times 1000 plus n)
O_DIV, O_SCALE, O_STUDENT_T, O_FILTER, O_FEATURE = 2001, 2002, 2003, 2004, 2005
O_T, O_LAMBDA, O_BETA = 2101, 2102, 2103


def f32(x):
    return x.to(torch.float32).to(torch.float64)


def randn(*shape, scale=2.0):
    return f32(torch.randn(*shape, generator=gen) * scale)


def fmt(x):
    return ' '.join('%.9g' % v for v in x.flatten().tolist())


def emit(name, head, arrays, value, grad):
    print('case', name)
    for line in head:
        print(line)
    for key, arr in arrays:
        print(key, fmt(arr) if torch.is_tensor(arr) else
              ' '.join(str(v) for v in arr))
    print('value', '%.17g' % value.item())
    print('grad', ' '.join('%.17g' % v for v in grad.flatten().tolist()))
    print('end')


# ---- output losses -------------------------------------------------------

def divergence(div, logp, logq):
    """D(q, p) per sample; q teacher, p student (log-probabilities)."""
    p, q = logp.exp(), logq.exp()
    if div == CE:
        return -(q * logp).sum(1)
    if div == KL:   # KL(q || p): kl_div(input=log p, target=q)
        return F.kl_div(logp, logq, log_target=True, reduction='none').sum(1)
    if div == RKL:  # KL(p || q)
        return F.kl_div(logq, logp, log_target=True, reduction='none').sum(1)
    logm = ((p + q) / 2).log()
    return 0.5 * (F.kl_div(logm, p, reduction='none').sum(1) +
                  F.kl_div(logm, q, reduction='none').sum(1))


def two_class_log(x):
    """log of (1 - sigmoid(x), sigmoid(x)), as columns."""
    return torch.stack([F.logsigmoid(-x[:, 0]), F.logsigmoid(x[:, 0])], 1)


def output_loss(kind, s, t, y=None, targets=None, lam=0.5, T=1.0, div=CE,
                c2=True, ts1=False, w=None, mask=None, cols=None, filt=F_NONE):
    n, k = s.shape
    binary = y is not None and k == 1
    if targets is not None:
        label = 0.5 * ((s - targets) ** 2).sum(1)
    elif binary:
        label = F.binary_cross_entropy_with_logits(
            s[:, 0], y.double(), reduction='none')
    else:
        label = F.cross_entropy(s, y, reduction='none')
    if kind == HARD:
        l = label
    else:
        has = torch.ones(n, dtype=torch.bool) if mask is None else mask.bool()
        weight = torch.ones(n)
        if filt == F_DROP:
            pred = (t[:, 0] > 0).long() if binary else t.argmax(1)
            has = has & (pred == y)
        if filt == F_CONF:
            lt = two_class_log(t) if binary else F.log_softmax(t, 1)
            weight = lt.gather(1, y[:, None])[:, 0].exp()
        sc = s if cols is None else s[:, cols]
        tc = t if cols is None else t[:, cols]
        if kind == KD:
            Ts = 1.0 if ts1 else T
            c = T * T if c2 else 1.0
            if binary:
                logp, logq = two_class_log(sc / Ts), two_class_log(tc / T)
            else:
                logp = F.log_softmax(sc / Ts, 1)
                logq = F.log_softmax(tc / T, 1)
            term = c * divergence(div, logp, logq)
        elif kind == LOGITS:
            term = 0.5 * ((sc - tc) ** 2).sum(1)
        elif kind == SEL:
            lp = F.log_softmax(sc, 1).gather(1, y[:, None])[:, 0]
            lq = F.log_softmax(tc, 1).gather(1, y[:, None])[:, 0]
            term = 0.5 * (lp - lq) ** 2
        else:
            term = 0.5 * ((sc - tc) ** 2).sum(1)
        l = torch.where(has, (1 - lam) * label + lam * weight * term, label)
    w = torch.ones(n) if w is None else w
    return (w * l).sum() / w.sum()


def output_case(name, kind, n, k, regression=False, opts=(), lam=0.3,
                T=1.0, div=CE, c2=True, ts1=False, weights=False, mask=None,
                cols=None, filt=F_NONE):
    s = randn(n, k).requires_grad_()
    t = randn(n, k)
    y = targets = None
    arrays = [('n', [n]), ('k', [k]), ('s', s.detach()), ('t', t)]
    if regression:
        targets = randn(n, k)
        arrays.append(('targets', targets))
    else:
        y = torch.randint(0, 2 if k == 1 else k, (n,), generator=gen)
        if filt == F_DROP:  # make sure both kinds of sample occur
            y[0] = 1 if k == 1 and t[0, 0] > 0 else int(t[0].argmax())
            y[1] = 0 if k == 1 and t[1, 0] > 0 else (int(t[1].argmax()) + 1) % k
        arrays.append(('labels', y.tolist()))
    w = None
    if weights:
        w = f32(torch.rand(n, generator=gen) * 2)
        arrays.append(('weights', w))
    if mask is not None:
        arrays.append(('mask', mask))
    if cols is not None:
        arrays.append(('cols', cols))
    v = output_loss(kind, s, t, y, targets, lam, T, div, c2, ts1, w,
                    None if mask is None else torch.tensor(mask), cols, filt)
    v.backward()
    head = ['kind %d' % kind,
            'int %d %d' % (O_DIV, div), 'int %d %d' % (O_SCALE, int(c2)),
            'int %d %d' % (O_STUDENT_T, int(ts1)),
            'int %d %d' % (O_FILTER, filt),
            'double %d %.17g' % (O_T, T), 'double %d %.17g' % (O_LAMBDA, lam)]
    emit(name, head, arrays, v, s.grad)


def output_cases():
    output_case('hard_ce', HARD, 5, 4)
    output_case('hard_binary', HARD, 6, 1)
    output_case('hard_regression', HARD, 4, 3, regression=True)
    names = {CE: 'ce', KL: 'kl', RKL: 'rkl', JS: 'js'}
    for div in (CE, KL, RKL, JS):
        for T in (1.0, 4.0):
            for c2 in (True, False):
                output_case('kd_%s_T%g_c%d' % (names[div], T, int(c2)), KD,
                            5, 4, T=T, div=div, c2=c2)
        output_case('kd_%s_T4_ts1' % names[div], KD, 5, 4, T=4.0, div=div,
                    ts1=True)
    output_case('kd_binary_T2', KD, 6, 1, T=2.0, div=KL)
    output_case('kd_binary_js', KD, 6, 1, T=3.0, div=JS, ts1=True)
    output_case('kd_mask_weights', KD, 6, 3, T=2.0, weights=True,
                mask=[1, 0, 1, 1, 0, 1])
    output_case('kd_columns', KD, 5, 5, T=2.0, div=KL, cols=[0, 2, 3])
    output_case('kd_drop_wrong', KD, 6, 3, T=2.0, filt=F_DROP)
    output_case('kd_confidence', KD, 6, 3, T=2.0, filt=F_CONF)
    output_case('logits', LOGITS, 5, 4, lam=0.6)
    output_case('logits_columns', LOGITS, 5, 4, lam=0.6, cols=[1, 3])
    output_case('sel', SEL, 5, 4, lam=0.7)
    output_case('sel_weights_mask', SEL, 5, 4, lam=0.7, weights=True,
                mask=[0, 1, 1, 0, 1])
    output_case('regression', REGRESSION, 5, 3, regression=True, lam=0.4)
    output_case('regression_columns', REGRESSION, 5, 3, regression=True,
                lam=0.4, cols=[2, 0])


# ---- feature losses, as in the authors' code ------------------------------

def pdist(e, eps=1e-12):
    """RKD (lenscloth/RKD, metric/utils.py)."""
    e_square = e.pow(2).sum(dim=1)
    prod = e @ e.t()
    res = (e_square.unsqueeze(1) + e_square.unsqueeze(0) - 2 * prod).clamp(min=eps)
    res = res.sqrt().clone()
    res[range(len(e)), range(len(e))] = 0
    return res


def rkd_distance(student, teacher):
    with torch.no_grad():
        t_d = pdist(teacher)
        t_d = t_d / t_d[t_d > 0].mean()
    d = pdist(student)
    d = d / d[d > 0].mean()
    return F.smooth_l1_loss(d, t_d, reduction='mean')


def rkd_angle(student, teacher):
    with torch.no_grad():
        td = teacher.unsqueeze(0) - teacher.unsqueeze(1)
        norm_td = F.normalize(td, p=2, dim=2)
        t_angle = torch.bmm(norm_td, norm_td.transpose(1, 2)).view(-1)
    sd = student.unsqueeze(0) - student.unsqueeze(1)
    norm_sd = F.normalize(sd, p=2, dim=2)
    s_angle = torch.bmm(norm_sd, norm_sd.transpose(1, 2)).view(-1)
    return F.smooth_l1_loss(s_angle, t_angle, reduction='mean')


def pkt(output_net, target_net, eps=0.0000001):
    """passalis/probabilistic_kt, cosine_similarity_loss."""
    output_net_norm = torch.sqrt(torch.sum(output_net ** 2, dim=1, keepdim=True))
    output_net = output_net / (output_net_norm + eps)
    target_net_norm = torch.sqrt(torch.sum(target_net ** 2, dim=1, keepdim=True))
    target_net = target_net / (target_net_norm + eps)
    model_similarity = torch.mm(output_net, output_net.transpose(0, 1))
    target_similarity = torch.mm(target_net, target_net.transpose(0, 1))
    model_similarity = (model_similarity + 1.0) / 2.0
    target_similarity = (target_similarity + 1.0) / 2.0
    model_similarity = model_similarity / torch.sum(model_similarity, dim=1, keepdim=True)
    target_similarity = target_similarity / torch.sum(target_similarity, dim=1, keepdim=True)
    return torch.mean(target_similarity * torch.log(
        (target_similarity + eps) / (model_similarity + eps)))


def sp(f_s, f_t):
    """HobbitLong/RepDistiller, distiller_zoo/SP.py (similarity_loss)."""
    bsz = f_s.shape[0]
    f_s = f_s.view(bsz, -1)
    f_t = f_t.view(bsz, -1)
    G_s = F.normalize(torch.mm(f_s, torch.t(f_s)))
    G_t = F.normalize(torch.mm(f_t, torch.t(f_t)))
    G_diff = G_t - G_s
    return (G_diff * G_diff).view(-1, 1).sum(0)[0] / (bsz * bsz)


def feature_case(name, feature, fn, n, ds, dt, beta=1.0, mask=None,
                 hint=False):
    fs = randn(n, ds, scale=1.0).requires_grad_()
    ft = randn(n, dt, scale=1.0)
    arrays = [('n', [n]), ('ds', [ds]), ('dt', [dt]), ('fs', fs.detach()),
              ('ft', ft)]
    keep = torch.ones(n, dtype=torch.bool)
    if mask is not None:
        arrays.append(('mask', mask))
        keep = torch.tensor(mask).bool()
    if hint:
        W = randn(dt, ds, scale=0.5)
        b = randn(dt, scale=0.5)
        arrays += [('W', W), ('b', b)]
        r = fs[keep] @ W.t() + b - ft[keep]
        v = 0.5 * (r ** 2).sum(1).mean()
    else:
        v = fn(fs[keep], ft[keep])
    v = beta * v
    v.backward()
    head = ['feature %d' % feature, 'double %d %.17g' % (O_BETA, beta)]
    emit(name, head, arrays, v, fs.grad)


def feature_cases():
    feature_case('hint', HINT, None, 5, 3, 4, hint=True)
    feature_case('hint_mask_beta', HINT, None, 6, 4, 2, beta=2.5,
                 mask=[1, 1, 0, 1, 0, 1], hint=True)
    feature_case('rkd_dist', RKD_D, rkd_distance, 6, 3, 5)
    feature_case('rkd_dist_mask', RKD_D, rkd_distance, 7, 4, 2, beta=25.0,
                 mask=[1, 0, 1, 1, 1, 0, 1])
    feature_case('rkd_angle', RKD_A, rkd_angle, 6, 3, 5)
    feature_case('rkd_angle_beta', RKD_A, rkd_angle, 5, 4, 4, beta=50.0)
    feature_case('pkt', PKT, pkt, 6, 3, 5)
    feature_case('pkt_mask', PKT, pkt, 7, 5, 3, beta=3.0,
                 mask=[0, 1, 1, 1, 0, 1, 1])
    feature_case('sp', SP, sp, 6, 3, 5)
    feature_case('sp_mask', SP, sp, 7, 4, 6, beta=2.0,
                 mask=[1, 1, 1, 0, 1, 0, 1])


if __name__ == '__main__':
    print('# Generated by make_golden.py (PyTorch %s); do not edit.'
          % torch.__version__)
    output_cases()
    feature_cases()
