use std::os::raw::c_int;
use std::ptr;

use lupi_sys as sys;

use crate::error::{check, expect_len, opt_ptr, rows_of, Error, Result};
use crate::options::{impl_options, Handle};

/// A kind of distillation loss (`LUPI_LOSS_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LossKind {
    /// The label loss alone.
    Hard,
    /// Knowledge distillation: `(1-l) CE(y, p(s)) + l c D(p(t/T), p(s/Ts))`.
    Kd,
    /// Logit matching (Ba & Caruana 2014).
    Logits,
    /// Matching the log-probability of the true class.
    Sel,
    /// Regression: `(1-l) 1/2 |f-y|^2 + l 1/2 |f - f_t|^2`.
    Regression,
    /// A kind this binding does not know.
    Other(c_int),
}

impl LossKind {
    /// The `LUPI_LOSS_*` value.
    pub fn raw(self) -> c_int {
        match self {
            LossKind::Hard => sys::LUPI_LOSS_HARD,
            LossKind::Kd => sys::LUPI_LOSS_KD,
            LossKind::Logits => sys::LUPI_LOSS_LOGITS,
            LossKind::Sel => sys::LUPI_LOSS_SEL,
            LossKind::Regression => sys::LUPI_LOSS_REGRESSION,
            LossKind::Other(v) => v,
        }
    }
    fn from_raw(v: c_int) -> Self {
        [LossKind::Hard, LossKind::Kd, LossKind::Logits, LossKind::Sel, LossKind::Regression]
            .into_iter()
            .find(|k| k.raw() == v)
            .unwrap_or(LossKind::Other(v))
    }
}

/// The targets of [`Loss::eval`]: labels or regression targets.
#[derive(Clone, Copy, Debug)]
pub enum Targets<'a> {
    /// One label per sample (classification, binary).
    Labels(&'a [i32]),
    /// `n * k` regression targets.
    Values(&'a [f32]),
}

/// A distillation loss and its options (`lupi_loss`): `LUPI_LOSS_OPT_*`.
/// HINT and CRD feature losses learn parameters of their own, so training
/// steps take it as `&mut`.
///
/// Threads: `Send`, not `Sync`: lupi.h's rule is one thread at a time per
/// handle, and it makes no exception for losses. Give each thread its own
/// loss ([`try_clone`](Self::try_clone)).
pub struct Loss {
    pub(crate) raw: *mut sys::lupi_loss,
}

// SAFETY: the handle may move between threads; not Sync (see above).
unsafe impl Send for Loss {}

impl Drop for Loss {
    fn drop(&mut self) {
        // SAFETY: owned, freed once.
        unsafe { sys::lupi_loss_free(self.raw) }
    }
}

impl std::fmt::Debug for Loss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loss").field("kind", &self.kind()).finish()
    }
}

impl Loss {
    /// A loss of a kind with default options.
    pub fn new(kind: LossKind) -> Result<Self> {
        let mut raw = ptr::null_mut();
        // SAFETY: out-pointer.
        check(unsafe { sys::lupi_loss_create(kind.raw(), &mut raw) })?;
        Ok(Loss { raw })
    }
    /// A copy: kind, options, columns and learned HINT/CRD state.
    pub fn try_clone(&self) -> Result<Self> {
        let mut raw = ptr::null_mut();
        // SAFETY: out-pointer.
        check(unsafe { sys::lupi_loss_clone(self.raw, &mut raw) })?;
        Ok(Loss { raw })
    }
    /// The kind.
    pub fn kind(&self) -> LossKind {
        // SAFETY: const accessor.
        LossKind::from_raw(unsafe { sys::lupi_loss_kind(self.raw) })
    }
    /// Restricts the teacher term to output columns `cols`; an empty slice
    /// restores all columns.
    pub fn set_columns(&mut self, cols: &[usize]) -> Result<()> {
        // SAFETY: cols.len() entries, copied.
        check(unsafe { sys::lupi_loss_set_columns(self.raw, cols.as_ptr(), cols.len()) })
    }

    /// The output loss of student outputs `s` (`n * k`) against teacher
    /// logits `t` (`n * k`, may be `None` for `LossKind::Hard`) and the
    /// targets; `weights` and `has_teacher` one entry per sample. Returns
    /// the mean loss and writes d loss / d s into `grad` (`n * k`) when
    /// given.
    #[allow(clippy::too_many_arguments)]
    pub fn eval(
        &self,
        k: usize,
        s: &[f32],
        t: Option<&[f32]>,
        targets: Targets<'_>,
        weights: Option<&[f32]>,
        has_teacher: Option<&[u8]>,
        grad: Option<&mut [f32]>,
    ) -> Result<f64> {
        let n = rows_of("s", s.len(), k)?;
        if let Some(t) = t {
            expect_len("t", t.len(), n * k)?;
        }
        let (labels, values) = match targets {
            Targets::Labels(y) => {
                expect_len("labels", y.len(), n)?;
                (y.as_ptr(), ptr::null())
            }
            Targets::Values(v) => {
                expect_len("targets", v.len(), n * k)?;
                (ptr::null(), v.as_ptr())
            }
        };
        if let Some(w) = weights {
            expect_len("weights", w.len(), n)?;
        }
        if let Some(h) = has_teacher {
            expect_len("has_teacher", h.len(), n)?;
        }
        let grad = match grad {
            Some(g) => {
                expect_len("grad", g.len(), n * k)?;
                g.as_mut_ptr()
            }
            None => ptr::null_mut(),
        };
        let mut value = 0f64;
        // SAFETY: every array's length checked against n and k above.
        check(unsafe {
            sys::lupi_loss_eval(self.raw, n, k, s.as_ptr(), opt_ptr(t), labels, values, opt_ptr(weights), opt_ptr(has_teacher), &mut value, grad)
        })?;
        Ok(value)
    }

    fn features(
        &mut self,
        update: bool,
        fs: &[f32],
        ds: usize,
        ft: &[f32],
        dt: usize,
        has_teacher: Option<&[u8]>,
        grad: Option<&mut [f32]>,
    ) -> Result<f64> {
        let n = rows_of("fs", fs.len(), ds)?;
        expect_len("ft", ft.len(), n * dt)?;
        if let Some(h) = has_teacher {
            expect_len("has_teacher", h.len(), n)?;
        }
        let grad = match grad {
            Some(g) => {
                expect_len("grad", g.len(), n * ds)?;
                g.as_mut_ptr()
            }
            None if update => return Err(Error::new(sys::LUPI_EINVAL, "update_features needs grad")),
            None => ptr::null_mut(),
        };
        let f = if update { sys::lupi_loss_update_features } else { sys::lupi_loss_eval_features };
        let mut value = 0f64;
        // SAFETY: lengths checked against n, ds and dt above.
        check(unsafe { f(self.raw, n, ds, fs.as_ptr(), dt, ft.as_ptr(), opt_ptr(has_teacher), &mut value, grad) })?;
        Ok(value)
    }

    /// The feature loss (`LUPI_LOSS_OPT_FEATURE`) of student features `fs`
    /// (rows of `ds`) against teacher features `ft` (rows of `dt`); writes
    /// d loss / d fs into `grad` when given. HINT and CRD create their
    /// parameters on the first call.
    pub fn eval_features(&mut self, fs: &[f32], ds: usize, ft: &[f32], dt: usize, has_teacher: Option<&[u8]>, grad: Option<&mut [f32]>) -> Result<f64> {
        self.features(false, fs, ds, ft, dt, has_teacher, grad)
    }
    /// As [`eval_features`](Self::eval_features), then one step of the
    /// loss's own parameters; `grad` is required.
    pub fn update_features(&mut self, fs: &[f32], ds: usize, ft: &[f32], dt: usize, has_teacher: Option<&[u8]>, grad: &mut [f32]) -> Result<f64> {
        self.features(true, fs, ds, ft, dt, has_teacher, Some(grad))
    }
}

impl_options!(
    Loss,
    Handle::Loss,
    sys::lupi_loss_set_int,
    sys::lupi_loss_get_int,
    sys::lupi_loss_set_double,
    sys::lupi_loss_get_double
);
