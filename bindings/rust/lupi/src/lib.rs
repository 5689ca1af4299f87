//! Safe Rust interface to liblupi: learning using privileged information
//! and knowledge distillation.
//!
//! A host program has training samples with regular features X (available
//! when the model is used) and privileged features X* (available only while
//! training). liblupi trains a teacher on X*, then a student on X that
//! learns from the labels and from the teacher (generalized distillation,
//! Lopez-Paz, Bottou, Schoelkopf & Vapnik 2016).
//!
//! ```
//! use lupi::consts::*;
//! use lupi::{Dataset, Loss, LossKind, Model, Predict, Task, Teacher, View};
//!
//! # fn main() -> lupi::Result<()> {
//! // 200 samples: X has 3 noisy features, X* 1 clean one that decides y.
//! let n = 200;
//! let mut x = Vec::new();
//! let mut x_star = Vec::new();
//! let mut y = Vec::new();
//! for i in 0..n {
//!     let s = (i as f32 * 0.37).sin();
//!     x.extend_from_slice(&[s + 0.3 * (i as f32 * 1.7).cos(), 0.1, -0.2]);
//!     x_star.push(s);
//!     y.push((s > 0.0) as i32);
//! }
//! let mut ds = Dataset::new(&x, 3)?;
//! ds.set_privileged(&x_star, 1, None)?;
//! ds.set_labels(2, &y)?;
//!
//! let mut teacher_model = Model::new(Task::Classification, 1, &[8], 2)?;
//! teacher_model.set_view(View::Privileged)?;
//! teacher_model.set_int(LUPI_MODEL_OPT_EPOCHS, 5)?;
//! teacher_model.fit(&ds, None)?;
//! let teacher = Teacher::from_model(&teacher_model)?;
//!
//! let mut student = Model::new(Task::Classification, 3, &[8], 2)?;
//! student.set("epochs", 5)?;            // by name, lupi_option_by_name
//! let mut kd = Loss::new(LossKind::Kd)?;
//! kd.set_double(LUPI_LOSS_OPT_TEMPERATURE, 2.0)?;
//! student.student_fit(Some(&teacher), Some(&mut kd), &ds, None)?;
//!
//! let p = student.predict(&x[..3], Predict::Output)?; // one row of X
//! assert_eq!(p.len(), 2);
//! # Ok(())
//! # }
//! ```
//!
//! # Errors
//! Every fallible call returns [`Result`]; an [`Error`] carries the
//! negative `LUPI_E*` code, its name (`lupi_errname`) and the detail
//! message of the failing call (`lupi_errmsg`, read on the same thread).
//! Slices are checked against the shapes the C function will read before
//! it is called (`LUPI_ESHAPE` from the binding), so no safe call can make
//! the library read or write out of bounds.
//!
//! # Options
//! Each handle with options has typed setters that take the C keys,
//! `set_int(LUPI_MODEL_OPT_EPOCHS, 20)`, `set_double(LUPI_MODEL_OPT_LR,
//! 1e-2)`, and setters by name through `lupi_option_by_name`,
//! `set("weight-decay", 1e-4)`, `set("optimizer", "adamw")`.
//! [`OptionInfo`] describes every option (range, default, doc) from the
//! library's own table.
//!
//! # Threads
//! liblupi's rule is one thread at a time per handle, with two
//! exceptions: the functions taking a `const lupi_model *` may run on
//! several threads at once on a model nobody modifies, and a teacher's
//! `const lupi_teacher *` functions keep no scratch, so one teacher serves
//! students on several threads. In Rust terms:
//!
//! | type | `Send` | `Sync` | why |
//! |---|---|---|---|
//! | [`Model`] | yes | yes | `&self` methods are the const-model calls; changes need `&mut` |
//! | [`Teacher`] | yes | yes | `&self` methods and student calls use the const-teacher calls; adding and preparing need `&mut` |
//! | [`Dataset`] | yes | yes | `&self` methods only read; the teacher and model exceptions read datasets shared between threads |
//! | [`Loss`] | yes | no | no exception in lupi.h; clone one per thread |
//! | [`Reader`] | yes | no | no exception in lupi.h |
//! | [`Compare`] | yes | no | no exception in lupi.h |
//!
//! The compiler holds these: a loss, a reader or a comparison cannot be
//! shared between threads,
//!
//! ```compile_fail
//! fn shared<T: Sync>() {}
//! shared::<lupi::Loss>();
//! ```
//! ```compile_fail
//! fn shared<T: Sync>() {}
//! shared::<lupi::Reader>();
//! ```
//! ```compile_fail
//! fn shared<T: Sync>() {}
//! shared::<lupi::Compare>();
//! ```
//!
//! while models, teachers and datasets can:
//!
//! ```
//! fn shared<T: Send + Sync>() {}
//! fn movable<T: Send>() {}
//! shared::<lupi::Model>();
//! shared::<lupi::Teacher>();
//! shared::<lupi::Dataset>();
//! movable::<lupi::Loss>();
//! movable::<lupi::Reader>();
//! movable::<lupi::Compare>();
//! ```
//!
//! `student_step` and friends take `&mut Model` (the student), `&Teacher`
//! and `&mut Loss`, so several threads may train their own students and
//! losses from one shared teacher and dataset. Progress callbacks run on
//! the calling thread (liblupi starts no threads of its own, besides
//! OpenBLAS's pool), so closures need not be `Send`.

#![warn(missing_docs)]

mod callback;
mod compare;
mod dataset;
mod error;
mod loss;
mod model;
mod options;
mod privacy;
mod svm;
mod teacher;

pub use callback::Progress;
pub use compare::{Compare, Row, RowKind};
pub use dataset::{Dataset, Reader, Role, SplitMode, Task, View};
pub use error::{Error, Result};
pub use loss::{Loss, LossKind, Targets};
pub use model::{Metric, Model, Predict};
pub use options::{Handle, OptionInfo, OptionType, OptionValue};
pub use privacy::{dp_epsilon, dp_sigma, Dp};
pub use svm::Svm;
pub use teacher::{OutputsKind, Teacher};

/// The raw declarations, for what this crate does not wrap.
pub use lupi_sys as sys;

/// The `LUPI_*` constants of lupi.h (`c_int`), e.g. the option keys
/// `LUPI_MODEL_OPT_EPOCHS` and values such as `LUPI_OPTIM_ADAMW`.
#[doc(inline)]
pub use lupi_sys::consts;

use std::ffi::CStr;

/// The version of the loaded library, as `LUPI_VERSION_NUMBER`
/// (MAJOR*10000 + MINOR*100 + PATCH).
pub fn version_number() -> u32 {
    // SAFETY: plain call.
    unsafe { sys::lupi_version_number() }
}

/// "MAJOR.MINOR.PATCH" of the loaded library.
pub fn version_string() -> &'static str {
    // SAFETY: static storage.
    unsafe { CStr::from_ptr(sys::lupi_version_string()) }.to_str().unwrap_or("")
}

/// The version of the header these declarations were written from.
pub const HEADER_VERSION_NUMBER: u32 = sys::LUPI_VERSION_NUMBER as u32;

/// Sets the number of threads of the BLAS and the library's loops,
/// process-wide; 0 means all cores.
pub fn set_num_threads(n: i32) -> Result<()> {
    // SAFETY: plain call.
    error::check(unsafe { sys::lupi_set_num_threads(n) })
}

/// The thread count in effect.
pub fn num_threads() -> i32 {
    // SAFETY: plain call.
    unsafe { sys::lupi_get_num_threads() }
}
