use std::ffi::CString;
use std::os::raw::c_int;
use std::path::Path;
use std::ptr;

use lupi_sys as sys;

use crate::error::{check, expect_len, opt_ptr, rows_of, Error, Result};
use crate::options::{impl_options, Handle};

/// What a dataset's targets are, and what a model predicts (`LUPI_TASK_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Task {
    /// Features only, no targets yet.
    None,
    /// Labels in `[0, K)`, softmax cross-entropy.
    Classification,
    /// Labels in `{0, 1}`, one sigmoid output.
    Binary,
    /// `m` real targets per sample, squared error.
    Regression,
    /// A task this binding does not know (from a newer library).
    Other(c_int),
}

impl Task {
    /// The `LUPI_TASK_*` value.
    pub fn raw(self) -> c_int {
        match self {
            Task::None => sys::LUPI_TASK_NONE,
            Task::Classification => sys::LUPI_TASK_CLASSIFICATION,
            Task::Binary => sys::LUPI_TASK_BINARY,
            Task::Regression => sys::LUPI_TASK_REGRESSION,
            Task::Other(v) => v,
        }
    }
    /// The task of a `LUPI_TASK_*` value.
    pub fn from_raw(v: c_int) -> Self {
        match v {
            sys::LUPI_TASK_NONE => Task::None,
            sys::LUPI_TASK_CLASSIFICATION => Task::Classification,
            sys::LUPI_TASK_BINARY => Task::Binary,
            sys::LUPI_TASK_REGRESSION => Task::Regression,
            v => Task::Other(v),
        }
    }
}

/// A view of a dataset's features (`LUPI_VIEW_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum View {
    /// X, available when the model is used.
    Regular,
    /// X*, available only while training.
    Privileged,
    /// `[X, X*]` concatenated.
    Both,
}

impl View {
    /// The `LUPI_VIEW_*` value.
    pub fn raw(self) -> c_int {
        match self {
            View::Regular => sys::LUPI_VIEW_REGULAR,
            View::Privileged => sys::LUPI_VIEW_PRIVILEGED,
            View::Both => sys::LUPI_VIEW_BOTH,
        }
    }
}

/// How [`Dataset::split`] deals samples (`LUPI_SPLIT_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SplitMode {
    /// One shuffle of all samples.
    Random,
    /// Each class split in the same proportion (labels needed).
    Stratified,
}

impl SplitMode {
    fn raw(self) -> c_int {
        match self {
            SplitMode::Random => sys::LUPI_SPLIT_RANDOM,
            SplitMode::Stratified => sys::LUPI_SPLIT_STRATIFIED,
        }
    }
}

/// Samples with regular features X, optional privileged features X*,
/// targets and weights (`lupi_dataset`). Everything passed in is copied.
///
/// Threads: a `Dataset` is `Send` and `Sync`. Its `&self` methods call
/// only the `const lupi_dataset *` functions, which read the dataset and
/// keep no scratch in it; the header's thread rules rely on that (one
/// prepared teacher serves students on several threads, all reading the
/// dataset the teacher was prepared on, and `lupi_model_evaluate` on a
/// shared model runs concurrently with its dataset). Every change takes
/// `&mut self`, so Rust's borrows keep it exclusive.
pub struct Dataset {
    pub(crate) raw: *mut sys::lupi_dataset,
}

// SAFETY: a handle may move between threads (liblupi keeps no
// thread-affine state in it); &Dataset only reaches const functions,
// which are safe to call concurrently (see the type's documentation).
unsafe impl Send for Dataset {}
unsafe impl Sync for Dataset {}

impl Drop for Dataset {
    fn drop(&mut self) {
        // SAFETY: raw is owned and freed once.
        unsafe { sys::lupi_dataset_free(self.raw) }
    }
}

impl std::fmt::Debug for Dataset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dataset")
            .field("rows", &self.rows())
            .field("dim", &self.dim(View::Regular))
            .field("dim_privileged", &self.dim(View::Privileged))
            .field("task", &self.task())
            .finish()
    }
}

pub(crate) fn path_cstring(path: &Path) -> Result<CString> {
    #[cfg(unix)]
    let bytes = {
        use std::os::unix::ffi::OsStrExt;
        path.as_os_str().as_bytes().to_vec()
    };
    #[cfg(not(unix))]
    let bytes = path
        .to_str()
        .ok_or_else(|| Error::new(sys::LUPI_EINVAL, "path is not valid Unicode"))?
        .as_bytes()
        .to_vec();
    CString::new(bytes).map_err(|_| Error::new(sys::LUPI_EINVAL, "path contains a NUL byte"))
}

fn wrap(rc: c_int, raw: *mut sys::lupi_dataset) -> Result<Dataset> {
    check(rc)?;
    Ok(Dataset { raw })
}

impl Dataset {
    /// A dataset of `x.len() / d` samples with `d` regular features,
    /// row-major. Errors: `LUPI_ESHAPE` (`x` is not whole rows),
    /// `LUPI_EINVAL` (no samples), `LUPI_ENONFINITE` (NaN or infinity,
    /// the message names the sample and feature), `LUPI_ENOMEM`.
    pub fn new(x: &[f32], d: usize) -> Result<Self> {
        let n = rows_of("x", x.len(), d)?;
        let mut raw = ptr::null_mut();
        // SAFETY: x holds n*d floats; raw is an out-pointer.
        wrap(unsafe { sys::lupi_dataset_create(n, d, x.as_ptr(), &mut raw) }, raw)
    }

    /// Adds privileged features X* (`rows() * d_priv` floats). `mask`,
    /// when given, has one byte per sample: 0 means the sample has no X*
    /// (its row is ignored). Replaces earlier X* and detaches the dataset
    /// from teachers prepared on it.
    pub fn set_privileged(&mut self, x_priv: &[f32], d_priv: usize, mask: Option<&[u8]>) -> Result<()> {
        let n = self.rows();
        expect_len("x_priv", x_priv.len(), n * d_priv)?;
        if let Some(m) = mask {
            expect_len("mask", m.len(), n)?;
        }
        // SAFETY: lengths checked above.
        check(unsafe { sys::lupi_dataset_set_privileged(self.raw, d_priv, x_priv.as_ptr(), opt_ptr(mask)) })
    }

    /// Class labels in `[0, k)`, one per sample; the task becomes
    /// classification.
    pub fn set_labels(&mut self, k: usize, labels: &[i32]) -> Result<()> {
        expect_len("labels", labels.len(), self.rows())?;
        // SAFETY: one label per sample.
        check(unsafe { sys::lupi_dataset_set_labels(self.raw, k, labels.as_ptr()) })
    }

    /// Binary labels (0 or 1), one per sample; the task becomes binary.
    pub fn set_binary_labels(&mut self, labels: &[i32]) -> Result<()> {
        expect_len("labels", labels.len(), self.rows())?;
        // SAFETY: one label per sample.
        check(unsafe { sys::lupi_dataset_set_binary_labels(self.raw, labels.as_ptr()) })
    }

    /// `m` real targets per sample (`rows() * m` floats); the task becomes
    /// regression.
    pub fn set_targets(&mut self, m: usize, targets: &[f32]) -> Result<()> {
        expect_len("targets", targets.len(), self.rows() * m)?;
        // SAFETY: length checked.
        check(unsafe { sys::lupi_dataset_set_targets(self.raw, m, targets.as_ptr()) })
    }

    /// Per-sample weights (finite, >= 0), or `None` to remove them.
    pub fn set_weights(&mut self, weights: Option<&[f32]>) -> Result<()> {
        if let Some(w) = weights {
            expect_len("weights", w.len(), self.rows())?;
        }
        // SAFETY: length checked; NULL removes the weights.
        check(unsafe { sys::lupi_dataset_set_weights(self.raw, opt_ptr(weights)) })
    }

    /// Number of samples.
    pub fn rows(&self) -> usize {
        // SAFETY: const accessor on a live handle.
        unsafe { sys::lupi_dataset_rows(self.raw) }
    }
    /// Features of a view (0 when absent).
    pub fn dim(&self, view: View) -> usize {
        // SAFETY: const accessor.
        unsafe { sys::lupi_dataset_dim(self.raw, view.raw()) }
    }
    /// The task of the targets.
    pub fn task(&self) -> Task {
        // SAFETY: const accessor.
        Task::from_raw(unsafe { sys::lupi_dataset_task(self.raw) })
    }
    /// K for classification (2 for binary), m for regression, else 0.
    pub fn outputs(&self) -> usize {
        // SAFETY: const accessor.
        unsafe { sys::lupi_dataset_outputs(self.raw) }
    }
    /// Samples whose X* is present.
    pub fn privileged_count(&self) -> usize {
        // SAFETY: const accessor.
        unsafe { sys::lupi_dataset_privileged_count(self.raw) }
    }

    /// The features of `View::Regular` or `View::Privileged` (rows x dim,
    /// row-major), borrowed; `None` for an absent view and for
    /// `View::Both` (not stored as one array).
    pub fn features(&self, view: View) -> Option<&[f32]> {
        if view == View::Both {
            return None;
        }
        let len = self.rows() * self.dim(view);
        // SAFETY: the library documents rows*dim floats, valid until the
        // dataset is modified or freed, which &self prevents.
        unsafe { slice(sys::lupi_dataset_features(self.raw, view.raw()), len) }
    }
    /// The X* mask (one byte per sample), `None` when all X* are present.
    pub fn mask(&self) -> Option<&[u8]> {
        // SAFETY: n bytes, borrowed as above.
        unsafe { slice(sys::lupi_dataset_mask(self.raw), self.rows()) }
    }
    /// The labels (classification, binary).
    pub fn labels(&self) -> Option<&[i32]> {
        // SAFETY: n labels, borrowed as above.
        unsafe { slice(sys::lupi_dataset_labels(self.raw), self.rows()) }
    }
    /// The regression targets (rows x outputs).
    pub fn targets(&self) -> Option<&[f32]> {
        if self.task() != Task::Regression {
            return None;
        }
        // SAFETY: n*m floats, borrowed as above.
        unsafe { slice(sys::lupi_dataset_targets(self.raw), self.rows() * self.outputs()) }
    }
    /// The weights.
    pub fn weights(&self) -> Option<&[f32]> {
        // SAFETY: n floats, borrowed as above.
        unsafe { slice(sys::lupi_dataset_weights(self.raw), self.rows()) }
    }

    /// A new dataset of the samples `idx` (in that order, repeats allowed).
    pub fn subset(&self, idx: &[usize]) -> Result<Dataset> {
        let mut raw = ptr::null_mut();
        // SAFETY: idx.len() indices; the library checks their range.
        wrap(unsafe { sys::lupi_dataset_subset(self.raw, idx.as_ptr(), idx.len(), &mut raw) }, raw)
    }

    /// The split as indices: a permutation of `0..rows()` and the length of
    /// its first part (about `fraction * rows()`), fixed by `seed`.
    pub fn split_indices(&self, fraction: f64, seed: u64, mode: SplitMode) -> Result<(Vec<usize>, usize)> {
        let mut idx = vec![0usize; self.rows()];
        let mut first = 0usize;
        // SAFETY: idx has rows() entries.
        check(unsafe {
            sys::lupi_dataset_split_indices(self.raw, fraction, seed, mode.raw(), idx.as_mut_ptr(), &mut first)
        })?;
        Ok((idx, first))
    }

    /// Splits into two new datasets by [`split_indices`](Self::split_indices).
    pub fn split(&self, fraction: f64, seed: u64, mode: SplitMode) -> Result<(Dataset, Dataset)> {
        let (mut a, mut b) = (ptr::null_mut(), ptr::null_mut());
        // SAFETY: out-pointers; both set on success, NULL on failure.
        let rc = unsafe { sys::lupi_dataset_split(self.raw, fraction, seed, mode.raw(), &mut a, &mut b) };
        check(rc)?;
        Ok((Dataset { raw: a }, Dataset { raw: b }))
    }

    /// Permutes the samples in place (detaches prepared teachers).
    pub fn shuffle(&mut self, seed: u64) -> Result<()> {
        // SAFETY: live handle, exclusive.
        check(unsafe { sys::lupi_dataset_shuffle(self.raw, seed) })
    }

    /// Per-feature mean and standard deviation of a view (`dim(view)`
    /// entries each).
    pub fn fit_standardizer(&self, view: View) -> Result<(Vec<f32>, Vec<f32>)> {
        let d = self.dim(view);
        let (mut mean, mut std) = (vec![0f32; d], vec![0f32; d]);
        // SAFETY: dim(view) floats each (for BOTH: regular then privileged).
        check(unsafe { sys::lupi_dataset_fit_standardizer(self.raw, view.raw(), mean.as_mut_ptr(), std.as_mut_ptr()) })?;
        Ok((mean, std))
    }

    /// Replaces each feature `v` of a view by `(v - mean[j]) / std[j]`.
    pub fn standardize(&mut self, view: View, mean: &[f32], std: &[f32]) -> Result<()> {
        let d = self.dim(view);
        expect_len("mean", mean.len(), d)?;
        expect_len("std", std.len(), d)?;
        // SAFETY: lengths checked.
        check(unsafe { sys::lupi_dataset_standardize(self.raw, view.raw(), mean.as_ptr(), std.as_ptr()) })
    }

    /// Loads a CSV file (gzip'd or not); `reader` `None` means defaults.
    pub fn load_csv(path: impl AsRef<Path>, reader: Option<&Reader>) -> Result<Dataset> {
        let p = path_cstring(path.as_ref())?;
        let mut raw = ptr::null_mut();
        // SAFETY: valid C string and reader (or NULL).
        wrap(unsafe { sys::lupi_dataset_load_csv(p.as_ptr(), Reader::ptr(reader), &mut raw) }, raw)
    }

    /// Loads a LIBSVM/svmlight file (gzip'd or not).
    pub fn load_libsvm(path: impl AsRef<Path>, reader: Option<&Reader>) -> Result<Dataset> {
        let p = path_cstring(path.as_ref())?;
        let mut raw = ptr::null_mut();
        // SAFETY: as load_csv.
        wrap(unsafe { sys::lupi_dataset_load_libsvm(p.as_ptr(), Reader::ptr(reader), &mut raw) }, raw)
    }

    /// Loads an IDX image file and optionally its label file (MNIST).
    pub fn load_idx(images: impl AsRef<Path>, labels: Option<&Path>, reader: Option<&Reader>) -> Result<Dataset> {
        let pi = path_cstring(images.as_ref())?;
        let pl = labels.map(path_cstring).transpose()?;
        let mut raw = ptr::null_mut();
        // SAFETY: valid C strings (or NULL) and reader (or NULL).
        let rc = unsafe {
            sys::lupi_dataset_load_idx(pi.as_ptr(), pl.as_ref().map_or(ptr::null(), |c| c.as_ptr()), Reader::ptr(reader), &mut raw)
        };
        wrap(rc, raw)
    }
}

unsafe fn slice<'a, T>(p: *const T, len: usize) -> Option<&'a [T]> {
    if p.is_null() {
        None
    } else if len == 0 {
        Some(&[])
    } else {
        Some(std::slice::from_raw_parts(p, len))
    }
}

/// The role of a column in a loaded file (`LUPI_ROLE_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// A feature of X (the default for CSV columns).
    Regular,
    /// A feature of X*; empty cells mark X* absent.
    Privileged,
    /// The label, or one of the regression targets.
    Target,
    /// The per-sample weight.
    Weight,
    /// Skipped.
    Ignore,
}

impl Role {
    fn raw(self) -> c_int {
        match self {
            Role::Regular => sys::LUPI_ROLE_REGULAR,
            Role::Privileged => sys::LUPI_ROLE_PRIVILEGED,
            Role::Target => sys::LUPI_ROLE_TARGET,
            Role::Weight => sys::LUPI_ROLE_WEIGHT,
            Role::Ignore => sys::LUPI_ROLE_IGNORE,
        }
    }
}

/// Options of the file loaders (`lupi_reader`): `LUPI_READER_OPT_*` and
/// column roles.
///
/// Threads: `Send`, not `Sync` (the header's general rule, one thread at a
/// time per handle, has no exception for readers).
pub struct Reader {
    raw: *mut sys::lupi_reader,
}

// SAFETY: a handle may move between threads; not Sync (see above).
unsafe impl Send for Reader {}

impl Drop for Reader {
    fn drop(&mut self) {
        // SAFETY: owned, freed once.
        unsafe { sys::lupi_reader_free(self.raw) }
    }
}

impl Reader {
    /// A reader with default options.
    pub fn new() -> Result<Self> {
        let mut raw = ptr::null_mut();
        // SAFETY: out-pointer.
        check(unsafe { sys::lupi_reader_create(&mut raw) })?;
        Ok(Reader { raw })
    }

    fn ptr(r: Option<&Reader>) -> *const sys::lupi_reader {
        r.map_or(ptr::null(), |r| r.raw as *const _)
    }

    /// Gives columns `first..=last` (1-based) a role.
    pub fn set_role(&mut self, first: usize, last: usize, role: Role) -> Result<()> {
        // SAFETY: live handle.
        check(unsafe { sys::lupi_reader_set_role(self.raw, first, last, role.raw()) })
    }

    /// Gives the CSV column with this header a role.
    pub fn set_role_name(&mut self, name: &str, role: Role) -> Result<()> {
        let c = CString::new(name).map_err(|_| Error::new(sys::LUPI_EINVAL, "column name contains a NUL byte"))?;
        // SAFETY: valid C string for the call (copied by the library).
        check(unsafe { sys::lupi_reader_set_role_name(self.raw, c.as_ptr(), role.raw()) })
    }
}

impl_options!(Reader, Handle::Reader, sys::lupi_reader_set_int, sys::lupi_reader_get_int);
