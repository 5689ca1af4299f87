//! A teacher on privileged features X*, a student on X distilled from it,
//! and a student on X trained on labels alone, from in-memory arrays.
//!
//!     cargo run --example distill
//!
//! The data: 10 regular features, the first two a noisy copy of the two
//! privileged ones, whose sum decides the label (as examples/quickstart.c).
use std::ops::ControlFlow;

use lupi::consts::*;
use lupi::{Dataset, Loss, LossKind, Metric, Model, Predict, SplitMode, Task, Teacher, View};

/// A small deterministic generator (xorshift64*), so the example needs no
/// crate; uniform in [-0.5, 0.5).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f32 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let v = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 40;
        v as f32 / (1u64 << 24) as f32 - 0.5
    }
}

fn main() -> Result<(), lupi::Error> {
    const N: usize = 2000;
    const D: usize = 10;
    const D_STAR: usize = 2;
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut x, mut x_star, mut y) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..N {
        let row: Vec<f32> = (0..D).map(|_| rng.next()).collect();
        let clean = [row[0], row[1]];
        x_star.extend_from_slice(&clean);
        y.push((clean[0] + clean[1] > 0.0) as i32);
        let mut noisy = row;
        noisy[0] += 0.8 * rng.next();
        noisy[1] += 0.8 * rng.next();
        x.extend_from_slice(&noisy);
    }

    let mut all = Dataset::new(&x, D)?;
    all.set_privileged(&x_star, D_STAR, None)?;
    all.set_labels(2, &y)?;
    let (train, test) = all.split(0.75, 1, SplitMode::Stratified)?;
    println!("liblupi {}: {} training and {} test samples", lupi::version_string(), train.rows(), test.rows());

    // The teacher sees X* only.
    let mut teacher_model = Model::new(Task::Classification, D_STAR, &[16], 2)?;
    teacher_model.set_view(View::Privileged)?;
    teacher_model.set_int(LUPI_MODEL_OPT_EPOCHS, 20)?;
    teacher_model.set_double(LUPI_MODEL_OPT_LR, 1e-2)?;
    teacher_model.fit(&train, None)?;
    let mut teacher = Teacher::from_model(&teacher_model)?;
    teacher.prepare(&train)?; // cache its outputs on the training set
    let acc = |m: &Model, view_test: &Dataset| m.evaluate(view_test, Metric::Accuracy);
    println!("teacher on X*:           accuracy {:.3}", acc(&teacher_model, &test)?);

    // Two students on X with the same settings and initial weights.
    let mut proto = Model::new(Task::Classification, D, &[16], 2)?;
    proto.set("epochs", 20)?; // by name, as lupi_option_by_name finds it
    proto.set("lr", 1e-2)?;
    proto.set("optimizer", "adam")?;
    let mut hard = proto.try_clone()?;
    hard.fit(&train, None)?;
    println!("student on labels only:  accuracy {:.3}", acc(&hard, &test)?);

    let mut student = proto.try_clone()?;
    let mut kd = Loss::new(LossKind::Kd)?;
    kd.set_double(LUPI_LOSS_OPT_TEMPERATURE, 2.0)?;
    kd.set_double(LUPI_LOSS_OPT_LAMBDA, 0.7)?;
    let mut last_loss = f64::NAN;
    student.student_fit_with_progress(Some(&teacher), Some(&mut kd), &train, Some(&test), |p| {
        if p.epoch_end {
            last_loss = p.loss;
        }
        ControlFlow::Continue(())
    })?;
    println!("distilled student on X:  accuracy {:.3} (final training loss {:.4})", acc(&student, &test)?, last_loss);

    // At prediction time the student needs X alone.
    let p = student.predict(&x[..D], Predict::Output)?;
    println!("sample 0: label {}, student P(y=1) = {:.3}", y[0], p[1]);

    // What a mistake looks like: a row of the wrong width.
    if let Err(e) = student.predict(&x[..D - 1], Predict::Output) {
        println!("as expected, {}", e);
    }
    Ok(())
}
