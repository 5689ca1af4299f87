//! Progress callbacks: a Rust closure behind liblupi's `lupi_progress_fn`.
use std::any::Any;
use std::ops::ControlFlow;
use std::os::raw::{c_int, c_void};
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};

use lupi_sys as sys;

/// Progress of [`Model::fit_with_progress`](crate::Model::fit_with_progress),
/// [`Model::student_fit_with_progress`](crate::Model::student_fit_with_progress)
/// and [`Compare::run_with_progress`](crate::Compare::run_with_progress).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Progress {
    /// 1-based current epoch (for a comparison: models trained so far).
    pub epoch: u32,
    /// Planned epochs (for a comparison: models in all).
    pub epochs: u32,
    /// Steps done in this epoch.
    pub step: usize,
    /// Steps in one epoch.
    pub steps_per_epoch: usize,
    /// Mean training loss of this epoch so far.
    pub loss: f64,
    /// At the end of an epoch with a validation set: accuracy
    /// (classification, binary) or MSE (regression).
    pub valid_metric: Option<f64>,
    /// The end of an epoch.
    pub epoch_end: bool,
}

impl Progress {
    fn from_raw(p: &sys::lupi_progress) -> Self {
        Progress {
            epoch: p.epoch,
            epochs: p.epochs,
            step: p.step,
            steps_per_epoch: p.steps_per_epoch,
            loss: p.loss,
            valid_metric: if p.valid_metric.is_nan() { None } else { Some(p.valid_metric) },
            epoch_end: p.epoch_end != 0,
        }
    }
}

/// A closure and a panic it may have raised. liblupi calls the callback
/// on the thread that made the call (it starts no threads of its own), so
/// the closure needs no `Send`. A panic must not unwind through C: it is
/// caught, the call is stopped, and the panic resumes once the call
/// returned.
pub(crate) struct ProgressState<F> {
    f: F,
    panic: Option<Box<dyn Any + Send>>,
}

impl<F: FnMut(&Progress) -> ControlFlow<()>> ProgressState<F> {
    pub(crate) fn new(f: F) -> Self {
        ProgressState { f, panic: None }
    }

    /// The function pointer and user pointer to pass to liblupi; `self`
    /// must stay in place for the call.
    pub(crate) fn raw(&mut self) -> (sys::lupi_progress_fn, *mut c_void) {
        (Some(trampoline::<F>), self as *mut Self as *mut c_void)
    }

    /// Resumes a panic of the closure, else returns `rc`.
    pub(crate) fn finish(self, rc: c_int) -> c_int {
        if let Some(p) = self.panic {
            resume_unwind(p);
        }
        rc
    }
}

unsafe extern "C" fn trampoline<F: FnMut(&Progress) -> ControlFlow<()>>(
    user: *mut c_void,
    p: *const sys::lupi_progress,
) -> c_int {
    // SAFETY: user is the ProgressState<F> of raw(), alive for the call;
    // p is valid during the callback.
    let st = &mut *(user as *mut ProgressState<F>);
    if st.panic.is_some() || p.is_null() {
        return 1;
    }
    let progress = Progress::from_raw(&*p);
    match catch_unwind(AssertUnwindSafe(|| (st.f)(&progress))) {
        Ok(ControlFlow::Continue(())) => 0,
        Ok(ControlFlow::Break(())) => 1,
        Err(panic) => {
            st.panic = Some(panic);
            1
        }
    }
}
