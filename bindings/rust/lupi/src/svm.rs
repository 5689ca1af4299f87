//! SVM+ (lupi.h 0.3, minimal): options, fit, decision values, classes.
use std::ptr;

use lupi_sys as sys;

use crate::dataset::Dataset;
use crate::error::{check, Result};
use crate::options::{impl_options, Handle};

/// An SVM+ (`lupi_svm`, Vapnik & Vashist 2009): X and X* kernels, C,
/// gamma, widths and the solver's limits as `LUPI_SVM_OPT_*` options.
pub struct Svm {
    raw: *mut sys::lupi_svm,
}

// SAFETY: a lupi_svm is owned by this value; &self calls only read it.
unsafe impl Send for Svm {}
unsafe impl Sync for Svm {}

impl Drop for Svm {
    fn drop(&mut self) {
        // SAFETY: raw is owned and freed once.
        unsafe { sys::lupi_svm_free(self.raw) }
    }
}

impl Svm {
    /// An unfitted SVM+ holding every option's default.
    pub fn new() -> Result<Self> {
        let mut raw = ptr::null_mut();
        // SAFETY: raw is a valid out-pointer.
        check(unsafe { sys::lupi_svm_create(&mut raw) })?;
        Ok(Svm { raw })
    }

    /// Fits on class labels with X and X* (`lupi_svm_fit`); replaces an
    /// earlier fit. Errors as lupi_svm_fit: `LUPI_ESTATE` (no X*),
    /// `LUPI_ENOTSUP`, `LUPI_EINVAL`, `LUPI_ENOMEM`.
    pub fn fit(&mut self, train: &Dataset) -> Result<()> {
        // SAFETY: both handles are live; train is borrowed for the call.
        check(unsafe { sys::lupi_svm_fit(self.raw, train.raw) })
    }

    /// Machines of the fit: 1 for two classes, else K; 0 before a fit.
    pub fn machines(&self) -> usize {
        // SAFETY: const accessor on a live handle.
        unsafe { sys::lupi_svm_machines(self.raw) }
    }

    /// Decision values, rows x [`Svm::machines`] sample-major
    /// (`lupi_svm_decision`). Errors: `LUPI_ESTATE` (not fitted),
    /// `LUPI_ESHAPE`.
    pub fn decision(&self, ds: &Dataset) -> Result<Vec<f64>> {
        let mut out = vec![0.0; ds.rows() * self.machines().max(1)];
        // SAFETY: out holds rows * machines doubles.
        check(unsafe { sys::lupi_svm_decision(self.raw, ds.raw, out.as_mut_ptr()) })?;
        Ok(out)
    }

    /// Classes of the rows of ds (`lupi_svm_predict`). Errors as
    /// [`Svm::decision`].
    pub fn predict(&self, ds: &Dataset) -> Result<Vec<i32>> {
        let mut out = vec![0i32; ds.rows()];
        // SAFETY: out holds one class per row.
        check(unsafe { sys::lupi_svm_predict(self.raw, ds.raw, out.as_mut_ptr()) })?;
        Ok(out)
    }
}

impl_options!(Svm, Handle::Svm, sys::lupi_svm_set_int, sys::lupi_svm_get_int, sys::lupi_svm_set_double, sys::lupi_svm_get_double);
