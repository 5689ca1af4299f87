use std::ops::ControlFlow;
use std::os::raw::c_int;
use std::path::Path;
use std::ptr;

use lupi_sys as sys;

use crate::callback::{Progress, ProgressState};
use crate::dataset::{path_cstring, Dataset, Task, View};
use crate::error::{check, expect_len, rows_of, Error, Result};
use crate::loss::Loss;
use crate::options::{impl_options, Handle, OptionInfo, OptionValue};
use crate::teacher::Teacher;

/// What [`Model::predict`] writes (`LUPI_PREDICT_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Predict {
    /// Probabilities (classification; binary: P(y=1)) or values (regression).
    Output,
    /// Pre-softmax / pre-sigmoid outputs.
    Logits,
}

/// A metric of [`Model::evaluate`] (`LUPI_METRIC_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    /// Classification, binary.
    Accuracy,
    /// Classification, binary: mean -log p(y).
    LogLoss,
    /// Regression: mean over samples and outputs.
    Mse,
    /// Regression.
    Mae,
}

impl Metric {
    /// The `LUPI_METRIC_*` value.
    pub fn raw(self) -> c_int {
        match self {
            Metric::Accuracy => sys::LUPI_METRIC_ACCURACY,
            Metric::LogLoss => sys::LUPI_METRIC_LOGLOSS,
            Metric::Mse => sys::LUPI_METRIC_MSE,
            Metric::Mae => sys::LUPI_METRIC_MAE,
        }
    }
    pub(crate) fn from_raw(v: c_int) -> Option<Self> {
        [Metric::Accuracy, Metric::LogLoss, Metric::Mse, Metric::Mae].into_iter().find(|m| m.raw() == v)
    }
}

/// A dense network (`lupi_model`): a teacher, a student, or any model.
///
/// Threads: `Send` and `Sync`. Every `&self` method calls a function
/// taking a `const lupi_model *`, which lupi.h allows from several threads
/// at once on a model nobody modifies; everything that modifies the model
/// (options, training, student steps, even `student_loss`, which uses the
/// model's scratch) takes `&mut self`, so while a `&Model` is shared
/// nobody modifies it. An `Arc<Model>` can thus serve predictions on many
/// threads.
pub struct Model {
    pub(crate) raw: *mut sys::lupi_model,
}

// SAFETY: the handle may move between threads, and its const functions
// may run concurrently (lupi.h, "Conventions"); &self reaches only those.
unsafe impl Send for Model {}
unsafe impl Sync for Model {}

impl Drop for Model {
    fn drop(&mut self) {
        // SAFETY: owned, freed once.
        unsafe { sys::lupi_model_free(self.raw) }
    }
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sizes: Vec<usize> = (0..self.layers()).map(|i| self.layer_size(i)).collect();
        f.debug_struct("Model")
            .field("task", &self.task())
            .field("inputs", &self.inputs())
            .field("layer_sizes", &sizes)
            .finish()
    }
}

fn wrap(rc: c_int, raw: *mut sys::lupi_model) -> Result<Model> {
    check(rc)?;
    Ok(Model { raw })
}

fn opt_ds(ds: Option<&Dataset>) -> *const sys::lupi_dataset {
    ds.map_or(ptr::null(), |d| d.raw as *const _)
}

fn opt_teacher(t: Option<&Teacher>) -> *const sys::lupi_teacher {
    t.map_or(ptr::null(), |t| t.raw as *const _)
}

fn opt_loss(l: Option<&mut Loss>) -> *mut sys::lupi_loss {
    l.map_or(ptr::null_mut(), |l| l.raw)
}

impl Model {
    /// A network with `n_in` inputs, hidden layers of the sizes in `hidden`
    /// and `n_out` outputs: `Task::Classification` with `n_out = K >= 2`,
    /// `Task::Binary` with `n_out = 1`, `Task::Regression` with `n_out = m`.
    /// No hidden layers gives softmax, logistic or linear regression.
    pub fn new(task: Task, n_in: usize, hidden: &[usize], n_out: usize) -> Result<Self> {
        let mut raw = ptr::null_mut();
        // SAFETY: hidden has hidden.len() sizes (copied); out-pointer.
        let rc = unsafe { sys::lupi_model_create(task.raw(), n_in, hidden.as_ptr(), hidden.len(), n_out, &mut raw) };
        wrap(rc, raw)
    }

    /// A deep copy: weights, options, optimiser state, standardisation.
    pub fn try_clone(&self) -> Result<Model> {
        let mut raw = ptr::null_mut();
        // SAFETY: const call; out-pointer.
        wrap(unsafe { sys::lupi_model_clone(self.raw, &mut raw) }, raw)
    }

    /// Sets an integer option of one layer (`LUPI_LAYER_OPT_*`), layers
    /// numbered from 0, the output layer last.
    pub fn set_layer_int(&mut self, layer: usize, key: c_int, value: impl Into<i64>) -> Result<()> {
        // SAFETY: live handle, exclusive.
        check(unsafe { sys::lupi_model_set_layer_int(self.raw, layer, key, value.into()) })
    }
    /// Reads an integer option of one layer.
    pub fn get_layer_int(&self, layer: usize, key: c_int) -> Result<i64> {
        let mut v = 0;
        // SAFETY: const call; out-pointer.
        check(unsafe { sys::lupi_model_get_layer_int(self.raw, layer, key, &mut v) })?;
        Ok(v)
    }
    /// Sets a layer option by name ("activation", "bias", "frozen").
    pub fn set_layer(&mut self, layer: usize, name: &str, value: impl Into<OptionValue>) -> Result<()> {
        let info = OptionInfo::find(Handle::Layer, name)?;
        match info.convert(&value.into())? {
            OptionValue::Int(v) => self.set_layer_int(layer, info.key(), v),
            _ => Err(Error::new(sys::LUPI_ENOTSUP, "layer options are integers")),
        }
    }

    /// (Re)initialises the weights from `LUPI_MODEL_OPT_SEED`.
    pub fn init(&mut self) -> Result<()> {
        // SAFETY: live handle, exclusive.
        check(unsafe { sys::lupi_model_init(self.raw) })
    }

    /// The task.
    pub fn task(&self) -> Task {
        // SAFETY: const accessor.
        Task::from_raw(unsafe { sys::lupi_model_task(self.raw) })
    }
    /// Number of inputs (the width of a row given to `predict`).
    pub fn inputs(&self) -> usize {
        // SAFETY: const accessor.
        unsafe { sys::lupi_model_inputs(self.raw) }
    }
    /// Number of outputs.
    pub fn outputs(&self) -> usize {
        // SAFETY: const accessor.
        unsafe { sys::lupi_model_outputs(self.raw) }
    }
    /// Number of layers, the output layer included.
    pub fn layers(&self) -> usize {
        // SAFETY: const accessor.
        unsafe { sys::lupi_model_layers(self.raw) }
    }
    /// Output width of layer `i` (0 when out of range).
    pub fn layer_size(&self, i: usize) -> usize {
        // SAFETY: const accessor.
        unsafe { sys::lupi_model_layer_size(self.raw, i) }
    }
    /// Number of parameters.
    pub fn num_params(&self) -> usize {
        // SAFETY: const accessor.
        unsafe { sys::lupi_model_num_params(self.raw) }
    }

    /// All parameters, layer by layer (weights row-major out x in, then
    /// biases).
    pub fn params(&self) -> Result<Vec<f32>> {
        let mut p = vec![0f32; self.num_params()];
        // SAFETY: p has num_params floats.
        check(unsafe { sys::lupi_model_get_params(self.raw, p.as_mut_ptr(), p.len()) })?;
        Ok(p)
    }
    /// Sets all parameters (`num_params()` floats); marks the model
    /// initialised.
    pub fn set_params(&mut self, params: &[f32]) -> Result<()> {
        // SAFETY: the library checks the length against num_params.
        check(unsafe { sys::lupi_model_set_params(self.raw, params.as_ptr(), params.len()) })
    }
    /// The stored input standardisation: mean and std, `inputs()` each.
    pub fn standardizer(&self) -> Result<(Vec<f32>, Vec<f32>)> {
        let d = self.inputs();
        let (mut mean, mut std) = (vec![0f32; d], vec![0f32; d]);
        // SAFETY: inputs() floats each.
        check(unsafe { sys::lupi_model_get_standardizer(self.raw, mean.as_mut_ptr(), std.as_mut_ptr()) })?;
        Ok((mean, std))
    }
    /// Sets the input standardisation (`inputs()` floats each).
    pub fn set_standardizer(&mut self, mean: &[f32], std: &[f32]) -> Result<()> {
        expect_len("mean", mean.len(), self.inputs())?;
        expect_len("std", std.len(), self.inputs())?;
        // SAFETY: lengths checked.
        check(unsafe { sys::lupi_model_set_standardizer(self.raw, mean.as_ptr(), std.as_ptr()) })
    }

    /// One optimisation step with the label loss on samples `idx` of `ds`;
    /// returns the batch's mean loss.
    pub fn step(&mut self, ds: &Dataset, idx: &[usize]) -> Result<f64> {
        let mut loss = 0f64;
        // SAFETY: idx.len() indices (range checked by the library).
        check(unsafe { sys::lupi_model_step(self.raw, ds.raw, idx.as_ptr(), idx.len(), &mut loss) })?;
        Ok(loss)
    }
    /// The gradient of `step`'s loss into `grad` (`num_params()` floats),
    /// without an update; returns the loss.
    pub fn gradient(&mut self, ds: &Dataset, idx: &[usize], grad: &mut [f32]) -> Result<f64> {
        let mut loss = 0f64;
        // SAFETY: grad.len() floats; the library checks it is num_params.
        check(unsafe {
            sys::lupi_model_gradient(self.raw, ds.raw, idx.as_ptr(), idx.len(), &mut loss, grad.as_mut_ptr(), grad.len())
        })?;
        Ok(loss)
    }
    /// One optimiser update with a gradient computed elsewhere.
    pub fn apply_gradient(&mut self, grad: &[f32]) -> Result<()> {
        // SAFETY: the library checks the length.
        check(unsafe { sys::lupi_model_apply_gradient(self.raw, grad.as_ptr(), grad.len()) })
    }

    /// Trains for `LUPI_MODEL_OPT_EPOCHS` epochs on `train`, evaluating
    /// `valid` after each epoch (early stopping with `PATIENCE`).
    pub fn fit(&mut self, train: &Dataset, valid: Option<&Dataset>) -> Result<()> {
        // SAFETY: live handles; no callback.
        check(unsafe { sys::lupi_model_fit(self.raw, train.raw, opt_ds(valid), None, ptr::null_mut()) })
    }
    /// As [`fit`](Self::fit), calling `progress` at each epoch end (and
    /// every `PROGRESS_STEPS` steps); `ControlFlow::Break(())` stops
    /// training with `LUPI_ECANCELLED` (the weights trained so far are
    /// kept). A panic in `progress` stops training and resumes after it.
    pub fn fit_with_progress<F>(&mut self, train: &Dataset, valid: Option<&Dataset>, progress: F) -> Result<()>
    where
        F: FnMut(&Progress) -> ControlFlow<()>,
    {
        let mut st = ProgressState::new(progress);
        let (f, user) = st.raw();
        // SAFETY: st outlives the call; the callback runs on this thread.
        let rc = unsafe { sys::lupi_model_fit(self.raw, train.raw, opt_ds(valid), f, user) };
        check(st.finish(rc))
    }

    /// Predicts the rows of `x` (`inputs()` floats each, row-major; for
    /// `View::Both` rows are `[X, X*]`): `rows * outputs()` floats.
    pub fn predict(&self, x: &[f32], what: Predict) -> Result<Vec<f32>> {
        let n = rows_of("x", x.len(), self.inputs())?;
        let mut out = vec![0f32; n * self.outputs()];
        self.predict_into(x, what, &mut out)?;
        Ok(out)
    }
    /// As [`predict`](Self::predict) into `out` (`rows * outputs()` floats).
    pub fn predict_into(&self, x: &[f32], what: Predict, out: &mut [f32]) -> Result<()> {
        let d = self.inputs();
        let n = rows_of("x", x.len(), d)?;
        expect_len("out", out.len(), n * self.outputs())?;
        let what = match what {
            Predict::Output => sys::LUPI_PREDICT_OUTPUT,
            Predict::Logits => sys::LUPI_PREDICT_LOGITS,
        };
        // SAFETY: x has n*d floats, out n*outputs; const call, safe
        // concurrently on an unmodified model.
        check(unsafe { sys::lupi_model_predict(self.raw, x.as_ptr(), n, d, what, out.as_mut_ptr()) })
    }
    /// The most probable class of each row of `x` (classification, binary).
    pub fn predict_class(&self, x: &[f32]) -> Result<Vec<i32>> {
        let d = self.inputs();
        let n = rows_of("x", x.len(), d)?;
        let mut cls = vec![0i32; n];
        // SAFETY: x has n*d floats, cls n entries.
        check(unsafe { sys::lupi_model_predict_class(self.raw, x.as_ptr(), n, d, cls.as_mut_ptr()) })?;
        Ok(cls)
    }
    /// A metric on `ds` through the model's view.
    pub fn evaluate(&self, ds: &Dataset, metric: Metric) -> Result<f64> {
        let mut v = 0f64;
        // SAFETY: const call.
        check(unsafe { sys::lupi_model_evaluate(self.raw, ds.raw, metric.raw(), &mut v) })?;
        Ok(v)
    }
    /// The confusion matrix `counts[true * K + predicted]` (K*K, K = 2 for
    /// binary).
    pub fn confusion(&self, ds: &Dataset) -> Result<Vec<u64>> {
        let k = if self.task() == Task::Binary { 2 } else { self.outputs().max(2) };
        let mut counts = vec![0u64; k * k];
        // SAFETY: K*K entries.
        check(unsafe { sys::lupi_model_confusion(self.raw, ds.raw, counts.as_mut_ptr()) })?;
        Ok(counts)
    }

    /// Saves the model atomically (weights, shapes, options,
    /// standardisation).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let p = path_cstring(path.as_ref())?;
        // SAFETY: valid C string; const call.
        check(unsafe { sys::lupi_model_save(self.raw, p.as_ptr()) })
    }
    /// Loads a model file.
    pub fn load(path: impl AsRef<Path>) -> Result<Model> {
        let p = path_cstring(path.as_ref())?;
        let mut raw = ptr::null_mut();
        // SAFETY: valid C string; out-pointer.
        wrap(unsafe { sys::lupi_model_load(p.as_ptr(), &mut raw) }, raw)
    }
    /// The model file's bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut data: *mut sys::c_void = ptr::null_mut();
        let mut size = 0usize;
        // SAFETY: out-pointers; the buffer is copied, then lupi_free'd.
        unsafe {
            check(sys::lupi_model_save_memory(self.raw, &mut data, &mut size))?;
            let bytes = std::slice::from_raw_parts(data as *const u8, size).to_vec();
            sys::lupi_free(data);
            Ok(bytes)
        }
    }
    /// A model from a model file's bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Model> {
        let mut raw = ptr::null_mut();
        // SAFETY: bytes borrowed for the call.
        wrap(unsafe { sys::lupi_model_load_memory(bytes.as_ptr() as *const _, bytes.len(), &mut raw) }, raw)
    }

    // ---- students ---------------------------------------------------------

    /// One distillation step of this model as a student on samples `idx`
    /// of `ds`: its forward pass, the teacher's outputs for the same
    /// samples, the loss, backward, update. `teacher` `None` trains on the
    /// labels only; `loss` `None` means `LUPI_LOSS_KD` with its defaults.
    /// Returns the batch loss.
    pub fn student_step(&mut self, teacher: Option<&Teacher>, loss: Option<&mut Loss>, ds: &Dataset, idx: &[usize]) -> Result<f64> {
        let mut v = 0f64;
        // SAFETY: idx.len() indices; the teacher is only read.
        check(unsafe {
            sys::lupi_student_step(self.raw, opt_teacher(teacher), opt_loss(loss), ds.raw, idx.as_ptr(), idx.len(), &mut v)
        })?;
        Ok(v)
    }
    /// As [`student_step`](Self::student_step) without the update: the
    /// gradient into `grad` (`num_params()` floats); returns the loss.
    pub fn student_gradient(
        &mut self,
        teacher: Option<&Teacher>,
        loss: Option<&mut Loss>,
        ds: &Dataset,
        idx: &[usize],
        grad: &mut [f32],
    ) -> Result<f64> {
        let mut v = 0f64;
        // SAFETY: grad.len() floats, checked by the library against num_params.
        check(unsafe {
            sys::lupi_student_gradient(
                self.raw,
                opt_teacher(teacher),
                opt_loss(loss),
                ds.raw,
                idx.as_ptr(),
                idx.len(),
                &mut v,
                grad.as_mut_ptr(),
                grad.len(),
            )
        })?;
        Ok(v)
    }
    /// The distillation loss over all of `ds` without training.
    pub fn student_loss(&mut self, teacher: Option<&Teacher>, loss: Option<&mut Loss>, ds: &Dataset) -> Result<f64> {
        let mut v = 0f64;
        // SAFETY: live handles.
        check(unsafe { sys::lupi_student_loss(self.raw, opt_teacher(teacher), opt_loss(loss), ds.raw, &mut v) })?;
        Ok(v)
    }
    /// Trains this model as a student of `teacher` with `loss`, as
    /// [`fit`](Self::fit) does with labels.
    pub fn student_fit(&mut self, teacher: Option<&Teacher>, loss: Option<&mut Loss>, train: &Dataset, valid: Option<&Dataset>) -> Result<()> {
        // SAFETY: live handles; no callback.
        check(unsafe {
            sys::lupi_student_fit(self.raw, opt_teacher(teacher), opt_loss(loss), train.raw, opt_ds(valid), None, ptr::null_mut())
        })
    }
    /// As [`student_fit`](Self::student_fit) with a progress callback, as
    /// in [`fit_with_progress`](Self::fit_with_progress).
    pub fn student_fit_with_progress<F>(
        &mut self,
        teacher: Option<&Teacher>,
        loss: Option<&mut Loss>,
        train: &Dataset,
        valid: Option<&Dataset>,
        progress: F,
    ) -> Result<()>
    where
        F: FnMut(&Progress) -> ControlFlow<()>,
    {
        let mut st = ProgressState::new(progress);
        let (f, user) = st.raw();
        // SAFETY: st outlives the call; the callback runs on this thread.
        let rc = unsafe { sys::lupi_student_fit(self.raw, opt_teacher(teacher), opt_loss(loss), train.raw, opt_ds(valid), f, user) };
        check(st.finish(rc))
    }

    /// The view the model reads (`LUPI_MODEL_OPT_VIEW`).
    pub fn set_view(&mut self, view: View) -> Result<()> {
        self.set_int(sys::LUPI_MODEL_OPT_VIEW, view.raw())
    }
}

impl_options!(
    Model,
    Handle::Model,
    sys::lupi_model_set_int,
    sys::lupi_model_get_int,
    sys::lupi_model_set_double,
    sys::lupi_model_get_double
);
