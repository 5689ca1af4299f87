use std::any::Any;
use std::ops::ControlFlow;
use std::os::raw::{c_int, c_uint, c_void};
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::ptr;

use lupi_sys as sys;

use crate::callback::{Progress, ProgressState};
use crate::dataset::Dataset;
use crate::error::{check, Error, Result};
use crate::loss::Loss;
use crate::model::{Metric, Model};
use crate::options::{impl_options, Handle};

/// The kind of a row of a comparison table (`LUPI_COMPARE_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowKind {
    /// Majority class, or the training mean.
    Baseline,
    /// The teacher, on its own view of the test set.
    Teacher,
    /// The student trained on labels only.
    Hard,
    /// A student distilled with one (lambda, temperature).
    Distilled,
    /// A kind this binding does not know.
    Other(c_int),
}

/// One row of a comparison table.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Row {
    /// What the row measures.
    pub kind: RowKind,
    /// Imitation weight (distilled rows).
    pub lambda: Option<f64>,
    /// Temperature (distilled rows).
    pub temperature: Option<f64>,
    /// Mean of the metric over repetitions.
    pub mean: f64,
    /// Sample standard deviation over repetitions.
    pub std: f64,
    /// Mean of the paired difference, this row minus HARD.
    pub diff_mean: f64,
    /// Standard deviation of the paired difference.
    pub diff_std: f64,
}

/// The standard LUPI experiment (`lupi_compare`): a teacher, a hard-label
/// student and distilled students over a grid, scored on a test set over
/// repetitions. Options: `LUPI_COMPARE_OPT_*`.
///
/// Threads: `Send`, not `Sync` (one thread at a time, as lupi.h says for
/// every handle without an exception).
pub struct Compare {
    raw: *mut sys::lupi_compare,
}

// SAFETY: the handle may move between threads; not Sync (see above).
unsafe impl Send for Compare {}

impl Drop for Compare {
    fn drop(&mut self) {
        // SAFETY: owned, freed once.
        unsafe { sys::lupi_compare_free(self.raw) }
    }
}

/// The data callback of run_each, its current pair and a panic or error.
struct DataState<F> {
    f: F,
    current: Option<(Dataset, Dataset)>,
    error: Option<Error>,
    panic: Option<Box<dyn Any + Send>>,
}

unsafe extern "C" fn data_trampoline<F>(
    user: *mut c_void,
    repeat: c_uint,
    seed: u64,
    train: *mut *const sys::lupi_dataset,
    test: *mut *const sys::lupi_dataset,
) -> c_int
where
    F: FnMut(u32, u64) -> Result<(Dataset, Dataset)>,
{
    // SAFETY: user is the DataState<F> of run_each, alive for the call.
    let st = &mut *(user as *mut DataState<F>);
    // The library is done with the previous pair when it asks again.
    st.current = None;
    match catch_unwind(AssertUnwindSafe(|| (st.f)(repeat, seed))) {
        Ok(Ok(pair)) => {
            *train = pair.0.raw;
            *test = pair.1.raw;
            st.current = Some(pair);
            sys::LUPI_OK
        }
        Ok(Err(e)) => {
            let code = if e.code() < 0 { e.code() } else { sys::LUPI_EINVAL };
            st.error = Some(e);
            code
        }
        Err(p) => {
            st.panic = Some(p);
            sys::LUPI_ECANCELLED
        }
    }
}

impl Compare {
    /// A comparison of clones of the two prototypes (copied), with a KD
    /// loss prototype and the grid lambda = {0.5}, T = {1}.
    pub fn new(teacher_proto: &Model, student_proto: &Model) -> Result<Self> {
        let mut raw = ptr::null_mut();
        // SAFETY: prototypes are copied; out-pointer.
        check(unsafe { sys::lupi_compare_create(teacher_proto.raw, student_proto.raw, &mut raw) })?;
        Ok(Compare { raw })
    }
    /// The loss prototype (copied).
    pub fn set_loss(&mut self, loss: &Loss) -> Result<()> {
        // SAFETY: copied by the library.
        check(unsafe { sys::lupi_compare_set_loss(self.raw, loss.raw) })
    }
    /// The grid of imitation weights and temperatures (each non-empty).
    pub fn set_grid(&mut self, lambdas: &[f64], temperatures: &[f64]) -> Result<()> {
        // SAFETY: lengths passed with the pointers; copied.
        check(unsafe {
            sys::lupi_compare_set_grid(self.raw, lambdas.as_ptr(), lambdas.len(), temperatures.as_ptr(), temperatures.len())
        })
    }
    /// Runs on one train/test pair, replacing an earlier table.
    pub fn run(&mut self, train: &Dataset, test: &Dataset) -> Result<()> {
        // SAFETY: datasets borrowed for the call.
        check(unsafe { sys::lupi_compare_run(self.raw, train.raw, test.raw, None, ptr::null_mut()) })
    }
    /// As [`run`](Self::run), with `progress` called after each trained
    /// model (`epoch` = models done, `epochs` = models in all);
    /// `ControlFlow::Break(())` stops with `LUPI_ECANCELLED`.
    pub fn run_with_progress<F>(&mut self, train: &Dataset, test: &Dataset, progress: F) -> Result<()>
    where
        F: FnMut(&Progress) -> ControlFlow<()>,
    {
        let mut st = ProgressState::new(progress);
        let (f, user) = st.raw();
        // SAFETY: st outlives the call.
        let rc = unsafe { sys::lupi_compare_run(self.raw, train.raw, test.raw, f, user) };
        check(st.finish(rc))
    }
    /// Runs with a fresh train/test pair per repetition from `data(repeat,
    /// seed)`; an error it returns stops the run and is returned.
    pub fn run_each<F>(&mut self, data: F) -> Result<()>
    where
        F: FnMut(u32, u64) -> Result<(Dataset, Dataset)>,
    {
        let mut st = DataState { f: data, current: None, error: None, panic: None };
        // SAFETY: st outlives the call; the callback runs on this thread.
        let rc = unsafe {
            sys::lupi_compare_run_each(self.raw, Some(data_trampoline::<F>), &mut st as *mut DataState<F> as *mut c_void, None, ptr::null_mut())
        };
        drop(st.current.take());
        if let Some(p) = st.panic {
            resume_unwind(p);
        }
        match st.error {
            Some(e) if rc != sys::LUPI_OK => Err(e),
            _ => check(rc),
        }
    }

    /// Rows of the last run's table (0 before a run).
    pub fn rows(&self) -> usize {
        // SAFETY: const accessor.
        unsafe { sys::lupi_compare_rows(self.raw) }
    }
    /// Repetitions run.
    pub fn repeats(&self) -> u32 {
        // SAFETY: const accessor.
        unsafe { sys::lupi_compare_repeats(self.raw) }
    }
    /// The metric of the table: accuracy or MSE.
    pub fn metric(&self) -> Result<Metric> {
        // SAFETY: const accessor.
        let m = unsafe { sys::lupi_compare_metric(self.raw) };
        if m < 0 {
            return Err(Error::last(m));
        }
        Metric::from_raw(m).ok_or_else(|| Error::new(sys::LUPI_ENOTSUP, format!("metric {} unknown to this binding", m)))
    }
    /// One row of the table.
    pub fn row(&self, row: usize) -> Result<Row> {
        let mut kind = 0;
        let mut v = [0f64; 6];
        // SAFETY: valid out-pointers.
        check(unsafe {
            let [a, b, c, d, e, f] = &mut v;
            sys::lupi_compare_row(self.raw, row, &mut kind, a, b, c, d, e, f)
        })?;
        let kind = match kind {
            sys::LUPI_COMPARE_BASELINE => RowKind::Baseline,
            sys::LUPI_COMPARE_TEACHER => RowKind::Teacher,
            sys::LUPI_COMPARE_HARD => RowKind::Hard,
            sys::LUPI_COMPARE_DISTILLED => RowKind::Distilled,
            k => RowKind::Other(k),
        };
        let some = |x: f64| if x.is_nan() { None } else { Some(x) };
        Ok(Row { kind, lambda: some(v[0]), temperature: some(v[1]), mean: v[2], std: v[3], diff_mean: v[4], diff_std: v[5] })
    }
    /// The metric of one row in one repetition.
    pub fn value(&self, row: usize, repeat: u32) -> Result<f64> {
        let mut v = 0f64;
        // SAFETY: out-pointer.
        check(unsafe { sys::lupi_compare_value(self.raw, row, repeat, &mut v) })?;
        Ok(v)
    }
}

impl_options!(Compare, Handle::Compare, sys::lupi_compare_set_int, sys::lupi_compare_get_int);
