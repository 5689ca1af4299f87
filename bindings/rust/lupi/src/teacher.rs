use std::ptr;

use lupi_sys as sys;

use crate::dataset::Dataset;
use crate::error::{check, expect_len, Result};
use crate::model::Model;

/// The kind of external teacher outputs (`LUPI_OUTPUTS_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputsKind {
    /// Logits.
    Logits,
    /// Probabilities (rows non-negative, summing to 1).
    Probs,
}

/// A teacher (`lupi_teacher`): trained models, each seeing samples through
/// its own view, and external outputs computed anywhere.
///
/// Threads: `Send` and `Sync`. Adding members and preparing take
/// `&mut self`; everything else (outputs, and every student call, which
/// takes `&Teacher`) uses the `const lupi_teacher *` functions, which
/// lupi.h documents as keeping no scratch in the teacher, so that one
/// teacher serves several students on several threads at once as long as
/// nobody adds members or prepares it meanwhile; `&mut` for those makes
/// that rule a compile-time one. Share it with `Arc<Teacher>` or scoped
/// threads.
pub struct Teacher {
    pub(crate) raw: *mut sys::lupi_teacher,
}

// SAFETY: the handle may move between threads; the const teacher
// functions may run concurrently (lupi.h, "Teachers"), and &self reaches
// only those.
unsafe impl Send for Teacher {}
unsafe impl Sync for Teacher {}

impl Drop for Teacher {
    fn drop(&mut self) {
        // SAFETY: owned, freed once.
        unsafe { sys::lupi_teacher_free(self.raw) }
    }
}

impl std::fmt::Debug for Teacher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Teacher").field("num_outputs", &self.num_outputs()).finish()
    }
}

impl Teacher {
    /// An empty teacher; add members next.
    pub fn new() -> Result<Self> {
        let mut raw = ptr::null_mut();
        // SAFETY: out-pointer.
        check(unsafe { sys::lupi_teacher_create(&mut raw) })?;
        Ok(Teacher { raw })
    }

    /// A teacher of one trained model with weight 1.
    pub fn from_model(m: &Model) -> Result<Self> {
        let mut t = Teacher::new()?;
        t.add_model(m, 1.0)?;
        Ok(t)
    }

    /// Adds a trained model (copied) with a positive weight.
    pub fn add_model(&mut self, m: &Model, weight: f64) -> Result<()> {
        // SAFETY: the model is copied by the library.
        check(unsafe { sys::lupi_teacher_add_model(self.raw, m.raw, weight) })
    }

    /// Adds external outputs for the samples of `ds` (`rows * k` floats,
    /// copied), tied to `ds`: using the teacher with another dataset is
    /// `LUPI_EMISMATCH`. The teacher does not borrow `ds`.
    pub fn add_outputs(&mut self, ds: &Dataset, outputs: &[f32], k: usize, kind: OutputsKind, weight: f64) -> Result<()> {
        expect_len("outputs", outputs.len(), ds.rows() * k)?;
        let kind = match kind {
            OutputsKind::Logits => sys::LUPI_OUTPUTS_LOGITS,
            OutputsKind::Probs => sys::LUPI_OUTPUTS_PROBS,
        };
        // SAFETY: length checked; copied.
        check(unsafe { sys::lupi_teacher_add_outputs(self.raw, ds.raw, outputs.as_ptr(), k, kind, weight) })
    }

    /// Computes and caches the members' outputs on `ds`; later steps on
    /// `ds` read the cache.
    pub fn prepare(&mut self, ds: &Dataset) -> Result<()> {
        // SAFETY: live handles, teacher exclusive.
        check(unsafe { sys::lupi_teacher_prepare(self.raw, ds.raw) })
    }

    /// The combined teacher logits for samples `idx` of `ds`
    /// (`idx.len() * num_outputs()` floats) and, per sample, whether any
    /// member could see it.
    pub fn outputs(&self, ds: &Dataset, idx: &[usize]) -> Result<(Vec<f32>, Vec<bool>)> {
        let k = self.num_outputs();
        let mut out = vec![0f32; idx.len() * k];
        let mut has = vec![0u8; idx.len()];
        // SAFETY: out has n*k floats, has n bytes; const call.
        check(unsafe { sys::lupi_teacher_outputs(self.raw, ds.raw, idx.as_ptr(), idx.len(), out.as_mut_ptr(), has.as_mut_ptr()) })?;
        Ok((out, has.into_iter().map(|b| b != 0).collect()))
    }

    /// Number of outputs k (0 for an empty teacher).
    pub fn num_outputs(&self) -> usize {
        // SAFETY: const accessor.
        unsafe { sys::lupi_teacher_num_outputs(self.raw) }
    }

    /// A cross-fitted teacher: `k_folds` clones of `proto` trained on `ds`
    /// leaving one fold out each; each sample gets the logits of the clone
    /// that did not see it.
    pub fn crossfit(proto: &Model, ds: &Dataset, k_folds: u32, seed: u64) -> Result<Self> {
        let mut raw = ptr::null_mut();
        // SAFETY: const inputs; out-pointer.
        check(unsafe { sys::lupi_teacher_create_crossfit(proto.raw, ds.raw, k_folds, seed, &mut raw) })?;
        Ok(Teacher { raw })
    }
}
