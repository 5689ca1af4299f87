//! The safe wrapper against the built library: errors, options, datasets,
//! models, teachers and students, callbacks, comparisons and threads.
use std::ops::ControlFlow;
use std::sync::Arc;

use lupi::consts::*;
use lupi::*;

const N: usize = 60;
const D: usize = 4;
const DP: usize = 2;

/// X: D features, the first a noisy copy of X*'s first; 3 classes.
fn data() -> (Vec<f32>, Vec<f32>, Vec<i32>) {
    let mut s: u32 = 12345;
    let mut r = || {
        s = s.wrapping_mul(1103515245).wrapping_add(12345);
        ((s >> 16) & 0xff) as f32 / 256.0 - 0.5
    };
    let (mut x, mut xp, mut y) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..N {
        let c = (i % 3) as i32;
        y.push(c);
        let clean = c as f32 - 1.0 + 0.2 * r();
        xp.extend_from_slice(&[clean, r()]);
        x.extend_from_slice(&[clean + r(), r(), r(), r()]);
    }
    (x, xp, y)
}

fn dataset() -> Dataset {
    let (x, xp, y) = data();
    let mut ds = Dataset::new(&x, D).unwrap();
    ds.set_privileged(&xp, DP, None).unwrap();
    ds.set_labels(3, &y).unwrap();
    ds
}

fn trained_teacher(ds: &Dataset) -> Model {
    let mut m = Model::new(Task::Classification, DP, &[6], 3).unwrap();
    m.set_view(View::Privileged).unwrap();
    m.set_int(LUPI_MODEL_OPT_EPOCHS, 5).unwrap();
    m.fit(ds, None).unwrap();
    m
}

#[test]
fn version_matches_header() {
    assert_eq!(version_number(), HEADER_VERSION_NUMBER);
    let want = format!("{}.{}.{}", LUPI_VERSION_MAJOR, LUPI_VERSION_MINOR, LUPI_VERSION_PATCH);
    assert_eq!(version_string(), want);
}

#[test]
fn errors_carry_code_name_and_message() {
    let (x, _, _) = data();
    let mut ds = Dataset::new(&x, D).unwrap();
    // out of range label: the library's own message
    let mut y = vec![0i32; N];
    y[17] = 5;
    let e = ds.set_labels(3, &y).unwrap_err();
    assert_eq!(e.code(), LUPI_ERANGE);
    assert_eq!(e.name(), "LUPI_ERANGE");
    assert!(e.message().contains("17"), "message: {}", e.message());
    assert!(e.to_string().starts_with("LUPI_ERANGE: "));
    // NaN in the features
    let mut bad = x.clone();
    bad[5] = f32::NAN;
    assert_eq!(Dataset::new(&bad, D).unwrap_err().code(), LUPI_ENONFINITE);
    // the binding's own shape checks, before C reads anything
    let e = ds.set_labels(3, &y[..N - 1]).unwrap_err();
    assert_eq!(e.code(), LUPI_ESHAPE);
    assert_eq!(Dataset::new(&x[..7], D).unwrap_err().code(), LUPI_ESHAPE);
    assert_eq!(ds.set_privileged(&[0.0; 3], DP, None).unwrap_err().code(), LUPI_ESHAPE);
    let e = Error::new(-1000, "x");
    assert_eq!(e.name(), "LUPI_E?");
}

#[test]
fn options_by_key_and_by_name() {
    let mut m = Model::new(Task::Classification, D, &[5], 3).unwrap();
    m.set_int(LUPI_MODEL_OPT_EPOCHS, 7).unwrap();
    assert_eq!(m.get_int(LUPI_MODEL_OPT_EPOCHS).unwrap(), 7);
    m.set("epochs", 9).unwrap();
    assert_eq!(m.get("EPOCHS").unwrap(), OptionValue::Int(9));
    m.set("weight-decay", 1e-4).unwrap();
    assert_eq!(m.get_double(LUPI_MODEL_OPT_WEIGHT_DECAY).unwrap(), 1e-4);
    m.set("LUPI_MODEL_OPT_LR", 0.05).unwrap();
    assert_eq!(m.get_double(LUPI_MODEL_OPT_LR).unwrap(), 0.05);
    m.set("optimizer", "adamw").unwrap();
    assert_eq!(m.get_int(LUPI_MODEL_OPT_OPTIMIZER).unwrap(), LUPI_OPTIM_ADAMW as i64);
    m.set("shuffle", false).unwrap();
    assert_eq!(m.get_int(LUPI_MODEL_OPT_SHUFFLE).unwrap(), 0);
    // errors: wrong handle's key, out of range, unknown name, wrong type
    assert_eq!(m.set_int(LUPI_LOSS_OPT_SEED, 1).unwrap_err().code(), LUPI_EUNKNOWN_OPTION);
    let e = m.set_int(LUPI_MODEL_OPT_EPOCHS, 0).unwrap_err();
    assert_eq!(e.code(), LUPI_ERANGE);
    assert!(!e.message().is_empty());
    assert_eq!(m.set("no-such-option", 1).unwrap_err().code(), LUPI_EUNKNOWN_OPTION);
    assert_eq!(m.set("epochs", 0.5).unwrap_err().code(), LUPI_EINVAL);
    assert_eq!(m.set("optimizer", "newton").unwrap_err().code(), LUPI_EINVAL);
    // layers
    m.set_layer_int(0, LUPI_LAYER_OPT_ACTIVATION, LUPI_ACT_TANH).unwrap();
    assert_eq!(m.get_layer_int(0, LUPI_LAYER_OPT_ACTIVATION).unwrap(), LUPI_ACT_TANH as i64);
    m.set_layer(1, "frozen", true).unwrap();
    assert_eq!(m.get_layer_int(1, LUPI_LAYER_OPT_FROZEN).unwrap(), 1);
    // loss, reader, comparison
    let mut kd = Loss::new(LossKind::Kd).unwrap();
    kd.set("temperature", 4).unwrap(); // an integer for a real option
    assert_eq!(kd.get_double(LUPI_LOSS_OPT_TEMPERATURE).unwrap(), 4.0);
    kd.set("divergence", "kl").unwrap();
    assert_eq!(kd.get_int(LUPI_LOSS_OPT_DIVERGENCE).unwrap(), LUPI_DIV_KL as i64);
    let mut r = Reader::new().unwrap();
    r.set("header", 0).unwrap();
    assert_eq!(r.get_int(LUPI_READER_OPT_HEADER).unwrap(), 0);
}

#[test]
fn option_introspection() {
    let epochs = OptionInfo::by_key(LUPI_MODEL_OPT_EPOCHS).unwrap();
    assert_eq!(epochs.name(), "EPOCHS");
    assert_eq!(epochs.handle(), Some(Handle::Model));
    assert_eq!(epochs.value_type(), OptionType::Int);
    assert_eq!(epochs.int_default(), 10);
    assert_eq!(epochs.int_range(), (1, 1_000_000));
    let lr = OptionInfo::by_name(Handle::Model, "lr").unwrap();
    assert_eq!(lr.key(), LUPI_MODEL_OPT_LR);
    assert_eq!(lr.real_default(), 1e-3);
    let (lo, _, lo_open, _) = lr.real_range();
    assert!(lo == 0.0 && lo_open);
    let opt = OptionInfo::by_key(LUPI_MODEL_OPT_OPTIMIZER).unwrap();
    assert_eq!(opt.values().unwrap()[LUPI_OPTIM_RMSPROP as usize], "rmsprop");
    assert!(OptionInfo::by_name(Handle::Loss, "epochs").is_none());
    // every option of every handle: keys in its range, names round-trip
    for h in Handle::ALL {
        let all: Vec<OptionInfo> = OptionInfo::all(h).collect();
        assert!(!all.is_empty());
        for o in all {
            assert_eq!(o.key() / 1000, h.raw());
            assert_eq!(OptionInfo::by_name(h, o.name()).unwrap().key(), o.key());
            assert!(!o.doc().is_empty());
        }
    }
}

#[test]
fn dataset_accessors_and_splits() {
    let (x, xp, y) = data();
    let mut ds = dataset();
    assert_eq!(ds.rows(), N);
    assert_eq!(ds.dim(View::Regular), D);
    assert_eq!(ds.dim(View::Privileged), DP);
    assert_eq!(ds.task(), Task::Classification);
    assert_eq!(ds.outputs(), 3);
    assert_eq!(ds.features(View::Regular).unwrap(), &x[..]);
    assert_eq!(ds.features(View::Privileged).unwrap(), &xp[..]);
    assert!(ds.features(View::Both).is_none());
    assert_eq!(ds.labels().unwrap(), &y[..]);
    assert!(ds.mask().is_none() && ds.weights().is_none() && ds.targets().is_none());
    let mut mask = vec![1u8; N];
    mask[3] = 0;
    ds.set_privileged(&xp, DP, Some(&mask)).unwrap();
    assert_eq!(ds.privileged_count(), N - 1);
    assert_eq!(ds.mask().unwrap(), &mask[..]);
    ds.set_weights(Some(&vec![2.0; N])).unwrap();
    assert_eq!(ds.weights().unwrap()[0], 2.0);
    ds.set_weights(None).unwrap();
    let sub = ds.subset(&[2, 2, 5]).unwrap();
    assert_eq!(sub.rows(), 3);
    assert_eq!(sub.labels().unwrap(), &[y[2], y[2], y[5]]);
    let (idx, first) = ds.split_indices(0.5, 3, SplitMode::Stratified).unwrap();
    let (a, b) = ds.split(0.5, 3, SplitMode::Stratified).unwrap();
    assert_eq!((a.rows(), b.rows()), (first, N - first));
    assert_eq!(a.labels().unwrap()[0], y[idx[0]]);
    let (mean, std) = ds.fit_standardizer(View::Regular).unwrap();
    ds.standardize(View::Regular, &mean, &std).unwrap();
    let (m2, _) = ds.fit_standardizer(View::Regular).unwrap();
    assert!(m2.iter().all(|v| v.abs() < 1e-5));
    assert_eq!(ds.standardize(View::Regular, &mean[..1], &std).unwrap_err().code(), LUPI_ESHAPE);
    let mut reg = Dataset::new(&x, D).unwrap();
    reg.set_targets(2, &vec![0.5; 2 * N]).unwrap();
    assert_eq!(reg.task(), Task::Regression);
    assert_eq!(reg.targets().unwrap().len(), 2 * N);
}

#[test]
fn model_train_predict_save_load() {
    let ds = dataset();
    let (x, _, _) = data();
    let mut m = Model::new(Task::Classification, D, &[8], 3).unwrap();
    assert_eq!(m.predict(&x, Predict::Output).unwrap_err().code(), LUPI_ESTATE);
    m.set_int(LUPI_MODEL_OPT_EPOCHS, 3).unwrap();
    let mut epochs = 0;
    m.fit_with_progress(&ds, Some(&ds), |p| {
        if p.epoch_end {
            epochs += 1;
            assert!(p.valid_metric.is_some());
        }
        ControlFlow::Continue(())
    })
    .unwrap();
    assert_eq!(epochs, 3);
    let p = m.predict(&x, Predict::Output).unwrap();
    assert_eq!(p.len(), N * 3);
    assert!((p[0] + p[1] + p[2] - 1.0).abs() < 1e-5);
    let cls = m.predict_class(&x).unwrap();
    assert_eq!(cls.len(), N);
    let mut out = vec![0f32; 5];
    assert_eq!(m.predict_into(&x, Predict::Logits, &mut out).unwrap_err().code(), LUPI_ESHAPE);
    let acc = m.evaluate(&ds, Metric::Accuracy).unwrap();
    let conf = m.confusion(&ds).unwrap();
    assert_eq!(conf.len(), 9);
    assert_eq!(conf.iter().sum::<u64>(), N as u64);
    let diag: u64 = (0..3).map(|i| conf[i * 4]).sum();
    assert!((diag as f64 / N as f64 - acc).abs() < 1e-12);
    // in memory and on disk, the same predictions
    let bytes = m.to_bytes().unwrap();
    let m2 = Model::from_bytes(&bytes).unwrap();
    assert_eq!(m2.predict(&x, Predict::Output).unwrap(), p);
    let path = std::env::temp_dir().join(format!("lupi-rust-{}.model", std::process::id()));
    m.save(&path).unwrap();
    let m3 = Model::load(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(m3.predict(&x, Predict::Output).unwrap(), p);
    assert_eq!(Model::from_bytes(&bytes[..10]).unwrap_err().code(), LUPI_EFORMAT);
    // params, steps and gradients
    let params = m.params().unwrap();
    assert_eq!(params.len(), m.num_params());
    let mut c = m.try_clone().unwrap();
    let mut g = vec![0f32; c.num_params()];
    c.gradient(&ds, &[0, 1, 2], &mut g).unwrap();
    c.apply_gradient(&g).unwrap();
    assert_ne!(c.params().unwrap(), params);
    c.set_params(&params).unwrap();
    assert_eq!(c.params().unwrap(), params);
    assert!(c.step(&ds, &[0, 1, 2]).unwrap().is_finite());
    assert_eq!(c.step(&ds, &[N]).unwrap_err().code(), LUPI_ERANGE);
}

#[test]
fn progress_can_stop_and_panics_resume() {
    let ds = dataset();
    let mut m = Model::new(Task::Classification, D, &[4], 3).unwrap();
    m.set_int(LUPI_MODEL_OPT_EPOCHS, 50).unwrap();
    let mut calls = 0;
    let e = m
        .fit_with_progress(&ds, None, |_| {
            calls += 1;
            ControlFlow::Break(())
        })
        .unwrap_err();
    assert_eq!(e.code(), LUPI_ECANCELLED);
    assert_eq!(calls, 1);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = m.fit_with_progress(&ds, None, |_| panic!("from the callback"));
    }));
    let msg = r.unwrap_err();
    assert_eq!(*msg.downcast_ref::<&str>().unwrap(), "from the callback");
}

#[test]
fn teacher_and_distilled_student() {
    let ds = dataset();
    let tm = trained_teacher(&ds);
    let mut t = Teacher::from_model(&tm).unwrap();
    assert_eq!(t.num_outputs(), 3);
    t.prepare(&ds).unwrap();
    let (out, has) = t.outputs(&ds, &[0, 1]).unwrap();
    assert_eq!(out.len(), 6);
    assert!(has.iter().all(|&h| h));
    let mut s = Model::new(Task::Classification, D, &[5], 3).unwrap();
    s.set_int(LUPI_MODEL_OPT_EPOCHS, 3).unwrap();
    let mut kd = Loss::new(LossKind::Kd).unwrap();
    kd.set_double(LUPI_LOSS_OPT_TEMPERATURE, 2.0).unwrap();
    s.student_fit(Some(&t), Some(&mut kd), &ds, None).unwrap();
    let v = s.student_loss(Some(&t), Some(&mut kd), &ds).unwrap();
    assert!(v.is_finite() && v > 0.0);
    assert!(s.student_step(Some(&t), None, &ds, &[0, 1, 2, 3]).unwrap().is_finite());
    let mut g = vec![0f32; s.num_params()];
    s.student_gradient(Some(&t), Some(&mut kd), &ds, &[0, 1], &mut g).unwrap();
    assert!(g.iter().any(|&v| v != 0.0));
    // labels only
    s.student_step(None, None, &ds, &[0]).unwrap();
    // outputs of another width are refused, with the library's message
    let mut t2 = Teacher::new().unwrap();
    let e = t2.add_outputs(&ds, &vec![0.0; N * 2], 2, OutputsKind::Logits, 1.0).unwrap_err();
    assert_eq!(e.code(), LUPI_ESHAPE);
    assert!(e.message().contains("2 columns"), "{}", e);
    // external outputs are tied to their dataset
    let other = dataset();
    let mut t3 = Teacher::new().unwrap();
    t3.add_outputs(&ds, &vec![0.0; N * 3], 3, OutputsKind::Logits, 1.0).unwrap();
    assert_eq!(s.student_step(Some(&t3), None, &other, &[0]).unwrap_err().code(), LUPI_EMISMATCH);
    // cross-fitting
    let mut proto = Model::new(Task::Classification, DP, &[4], 3).unwrap();
    proto.set_view(View::Privileged).unwrap();
    proto.set_int(LUPI_MODEL_OPT_EPOCHS, 2).unwrap();
    let cf = Teacher::crossfit(&proto, &ds, 3, 1).unwrap();
    assert_eq!(cf.num_outputs(), 3);
}

#[test]
fn loss_as_a_function() {
    let mut kd = Loss::new(LossKind::Kd).unwrap();
    assert_eq!(kd.kind(), LossKind::Kd);
    let s = [1.0f32, 0.0, 0.0, 1.0];
    let t = [2.0f32, 0.0, 0.0, 2.0];
    let mut g = [0f32; 4];
    let v = kd.eval(2, &s, Some(&t), Targets::Labels(&[0, 1]), None, None, Some(&mut g)).unwrap();
    assert!(v > 0.0);
    assert!(g[0] < 0.0 && g[1] > 0.0);
    assert_eq!(kd.eval(2, &s, Some(&t[..2]), Targets::Labels(&[0, 1]), None, None, None).unwrap_err().code(), LUPI_ESHAPE);
    let c = kd.try_clone().unwrap();
    assert_eq!(c.kind(), LossKind::Kd);
    kd.set_columns(&[0]).unwrap();
    kd.set_int(LUPI_LOSS_OPT_FEATURE, LUPI_FEATURE_PKT).unwrap();
    let fs = [0.1f32, 0.2, 0.3, 0.1, 0.5, 0.9];
    let ft = [1.0f32, 0.0, 0.0, 1.0, 1.0, 1.0];
    let mut gf = [0f32; 6];
    let v = kd.eval_features(&fs, 2, &ft, 2, None, Some(&mut gf)).unwrap();
    assert!(v.is_finite());
}

#[test]
fn comparison() {
    let ds = dataset();
    let mut tp = Model::new(Task::Classification, DP, &[4], 3).unwrap();
    tp.set_view(View::Privileged).unwrap();
    tp.set_int(LUPI_MODEL_OPT_EPOCHS, 2).unwrap();
    let mut sp = Model::new(Task::Classification, D, &[4], 3).unwrap();
    sp.set_int(LUPI_MODEL_OPT_EPOCHS, 2).unwrap();
    let mut c = Compare::new(&tp, &sp).unwrap();
    c.set_int(LUPI_COMPARE_OPT_REPEATS, 2).unwrap();
    c.set_grid(&[0.3, 0.7], &[1.0]).unwrap();
    c.set_loss(&Loss::new(LossKind::Kd).unwrap()).unwrap();
    assert_eq!(c.metric().unwrap_err().code(), LUPI_ESTATE);
    let mut models = 0;
    c.run_with_progress(&ds, &ds, |_| {
        models += 1;
        ControlFlow::Continue(())
    })
    .unwrap();
    assert_eq!(models, 2 * 4);
    assert_eq!(c.rows(), 5);
    assert_eq!(c.repeats(), 2);
    assert_eq!(c.metric().unwrap(), Metric::Accuracy);
    let r = c.row(4).unwrap();
    assert_eq!(r.kind, RowKind::Distilled);
    assert_eq!((r.lambda, r.temperature), (Some(0.7), Some(1.0)));
    assert_eq!(c.row(0).unwrap().lambda, None);
    assert!((0.0..=1.0).contains(&c.value(2, 1).unwrap()));
    // fresh data per repetition; an error of the callback comes back
    let mut seeds = Vec::new();
    c.run_each(|repeat, seed| {
        seeds.push((repeat, seed));
        let d = dataset();
        let (a, b) = d.split(0.5, seed, SplitMode::Random)?;
        Ok((a, b))
    })
    .unwrap();
    assert_eq!(seeds, vec![(0, 0), (1, 1)]);
    let e = c.run_each(|_, _| Err(Error::new(LUPI_EIO, "no more data"))).unwrap_err();
    assert_eq!((e.code(), e.message()), (LUPI_EIO, "no more data"));
    assert_eq!(c.rows(), 0);
}

#[test]
fn shared_model_predicts_on_threads() {
    let ds = dataset();
    let (x, _, _) = data();
    let mut m = Model::new(Task::Classification, D, &[7], 3).unwrap();
    m.set_int(LUPI_MODEL_OPT_EPOCHS, 3).unwrap();
    m.fit(&ds, None).unwrap();
    let reference = m.predict(&x, Predict::Output).unwrap();
    let m = Arc::new(m);
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let (m, x) = (Arc::clone(&m), x.clone());
            std::thread::spawn(move || (0..20).map(|_| m.predict(&x, Predict::Output).unwrap()).collect::<Vec<_>>())
        })
        .collect();
    for h in handles {
        for p in h.join().unwrap() {
            assert_eq!(p, reference);
        }
    }
}

#[test]
fn one_teacher_serves_students_on_threads() {
    let ds = dataset();
    let mut t = Teacher::from_model(&trained_teacher(&ds)).unwrap();
    t.prepare(&ds).unwrap();
    let train = |seed: i64| {
        let mut s = Model::new(Task::Classification, D, &[5], 3).unwrap();
        s.set_int(LUPI_MODEL_OPT_SEED, seed).unwrap();
        s.set_int(LUPI_MODEL_OPT_EPOCHS, 3).unwrap();
        let mut kd = Loss::new(LossKind::Kd).unwrap();
        s.student_fit(Some(&t), Some(&mut kd), &ds, None).unwrap();
        s.params().unwrap()
    };
    let alone: Vec<Vec<f32>> = (0..4).map(train).collect();
    let together: Vec<Vec<f32>> = std::thread::scope(|sc| {
        let hs: Vec<_> = (0..4).map(|i| sc.spawn(move || train(i))).collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(alone, together);
}

#[test]
fn errors_are_per_thread() {
    let h = std::thread::spawn(|| {
        let e = Dataset::new(&[f32::NAN; 4], 2).unwrap_err();
        e.message().to_string()
    });
    let mine = Model::new(Task::Classification, 0, &[], 2).unwrap_err();
    let theirs = h.join().unwrap();
    assert_ne!(mine.message(), theirs);
    assert!(!mine.message().is_empty());
}

#[test]
fn threads_setting() {
    let before = num_threads();
    assert!(before >= 1);
    set_num_threads(1).unwrap();
    assert_eq!(num_threads(), 1);
    assert_eq!(set_num_threads(-1).unwrap_err().code(), LUPI_ERANGE);
    set_num_threads(0).unwrap();
}

#[test]
fn dp_accountant_and_options() {
    // TensorFlow Privacy's published value: q = 256/60000, sigma 1.1,
    // 60 epochs of 60000/256 steps, delta 1e-5: epsilon 3.01.
    let q = 256.0 / 60000.0;
    let steps = 60 * 60000 / 256;
    let eps = dp_epsilon(q, 1.1, steps, 1e-5).unwrap();
    assert!((eps - 3.01).abs() < 0.02, "epsilon {}", eps);
    assert_eq!(dp_epsilon(q, 1.1, 0, 1e-5).unwrap(), 0.0);
    assert_eq!(dp_epsilon(0.0, 1.1, 10, 1e-5).unwrap_err().code(), LUPI_ERANGE);
    // The inverse reaches the epsilon with the smallest noise.
    let sigma = dp_sigma(q, steps, 1e-5, eps).unwrap();
    assert!((sigma - 1.1).abs() < 1e-3, "sigma {}", sigma);
    assert!(dp_epsilon(q, sigma, steps, 1e-5).unwrap() <= eps * (1.0 + 1e-9));

    let mut dp = Dp::new().unwrap();
    for o in OptionInfo::all(Handle::Dp) {
        let got = dp.get(o.name()).unwrap();
        match (o.value_type(), got) {
            (OptionType::Int, OptionValue::Int(v)) => assert_eq!(v, o.int_default()),
            (OptionType::Double, OptionValue::Double(v)) => assert_eq!(v, o.real_default()),
            other => panic!("{}: {:?}", o.name(), other),
        }
    }
    dp.set_double(LUPI_DP_OPT_NOISE, 2.5).unwrap();
    assert_eq!(dp.get_double(LUPI_DP_OPT_NOISE).unwrap(), 2.5);
    assert_eq!(dp.set_double(LUPI_DP_OPT_DELTA, 1.0).unwrap_err().code(), LUPI_ERANGE);
    assert_eq!(dp.set_int(LUPI_MODEL_OPT_EPOCHS, 3).unwrap_err().code(), LUPI_EUNKNOWN_OPTION);
    dp.set("seed", 7).unwrap();
    assert_eq!(dp.get_int(LUPI_DP_OPT_SEED).unwrap(), 7);
}

#[test]
fn svm_plus_fits_and_predicts() {
    // Two classes, separable on the first feature; X* a clean copy.
    let (mut x, mut xp, mut y) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..40 {
        let c = (i % 2) as i32;
        let v = if c == 1 { 1.0 } else { -1.0 } + 0.1 * ((i * 7 % 11) as f32 / 11.0 - 0.5);
        x.extend_from_slice(&[v, (i % 5) as f32 / 5.0]);
        xp.push(v);
        y.push(c);
    }
    let mut ds = Dataset::new(&x, 2).unwrap();
    ds.set_privileged(&xp, 1, None).unwrap();
    ds.set_binary_labels(&y).unwrap();
    let mut svm = Svm::new().unwrap();
    assert_eq!(svm.machines(), 0);
    assert_eq!(svm.predict(&ds).unwrap_err().code(), LUPI_ESTATE);
    svm.set("kernel", "linear").unwrap();
    assert_eq!(svm.get_int(LUPI_SVM_OPT_KERNEL).unwrap(), LUPI_SVM_KERNEL_LINEAR as i64);
    svm.set_double(LUPI_SVM_OPT_C, 10.0).unwrap();
    assert_eq!(svm.set_double(LUPI_SVM_OPT_C, -1.0).unwrap_err().code(), LUPI_ERANGE);
    svm.fit(&ds).unwrap();
    assert_eq!(svm.machines(), 1);
    let f = svm.decision(&ds).unwrap();
    let cls = svm.predict(&ds).unwrap();
    assert_eq!(cls, y);
    for (fi, ci) in f.iter().zip(&cls) {
        assert_eq!(*fi > 0.0, *ci == 1);
    }
}
