//! Differential privacy (lupi.h 0.3, minimal): a DP-SGD configuration
//! (`lupi_dp`, its options) and the accountant.
use std::ptr;

use lupi_sys as sys;

use crate::error::{check, Result};
use crate::options::{impl_options, Handle};

/// The epsilon of `steps` steps of the sampled Gaussian mechanism (Poisson
/// rate `q`, noise multiplier `sigma`) for `delta` (`lupi_dp_epsilon`,
/// Renyi DP). Errors: `LUPI_ERANGE` (q not in (0, 1], sigma not > 0, delta
/// not in (0, 1)).
pub fn dp_epsilon(q: f64, sigma: f64, steps: u64, delta: f64) -> Result<f64> {
    let mut eps = 0.0;
    // SAFETY: eps is a valid out-pointer.
    check(unsafe { sys::lupi_dp_epsilon(q, sigma, steps, delta, &mut eps) })?;
    Ok(eps)
}

/// The smallest noise multiplier whose [`dp_epsilon`] is at most `epsilon`
/// (`lupi_dp_sigma`). Errors: `LUPI_ERANGE`.
pub fn dp_sigma(q: f64, steps: u64, delta: f64, epsilon: f64) -> Result<f64> {
    let mut sigma = 0.0;
    // SAFETY: sigma is a valid out-pointer.
    check(unsafe { sys::lupi_dp_sigma(q, steps, delta, epsilon, &mut sigma) })?;
    Ok(sigma)
}

/// A DP-SGD configuration (`lupi_dp`): noise, clip norm, sampling rate,
/// delta, target epsilon, seed, set through the `LUPI_DP_OPT_*` options.
/// The fits that use it are reached through [`crate::sys`].
pub struct Dp {
    pub(crate) raw: *mut sys::lupi_dp,
}

// SAFETY: a lupi_dp is plain data owned by this value.
unsafe impl Send for Dp {}
unsafe impl Sync for Dp {}

impl Drop for Dp {
    fn drop(&mut self) {
        // SAFETY: raw is owned and freed once.
        unsafe { sys::lupi_dp_free(self.raw) }
    }
}

impl Dp {
    /// A configuration holding every option's default.
    pub fn new() -> Result<Self> {
        let mut raw = ptr::null_mut();
        // SAFETY: raw is a valid out-pointer.
        check(unsafe { sys::lupi_dp_create(&mut raw) })?;
        Ok(Dp { raw })
    }

    /// The raw handle, for the `sys` functions (borrowed).
    pub fn as_ptr(&self) -> *const sys::lupi_dp {
        self.raw
    }
}

impl_options!(Dp, Handle::Dp, sys::lupi_dp_set_int, sys::lupi_dp_get_int, sys::lupi_dp_set_double, sys::lupi_dp_get_double);
