//! The training loop: deterministic data order, AdamW with a schedule, epoch-end validation
//! with early stopping, checkpoints every K steps, exact resume, and replay of a segment.
//!
//! Every input to a step is a pure function of the job (seed, configuration, data) and of the
//! checkpoint before it: the batches of epoch `e` are a pure function of the seed, the epoch
//! and the data (in memory, a shuffle drawn from the stream `order/{e}` of the seed; streamed
//! from shards, the loader's order), the learning rate a function of the step, and the model
//! and optimizer state is in the checkpoint. So a run interrupted at a checkpoint and resumed ends
//! with the same bits as an uninterrupted run, and a verifier can re-execute any segment
//! between two checkpoints and compare ids.

use std::time::Instant;

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::checkpoint::{Checkpoint, Progress};
use crate::optim::{AdamW, AdamWConfig, Moments};
use crate::rng::Rng;
use crate::schedule::Schedule;
use crate::state::{self, NamedTensor, TensorMap};

/// What a training job asks for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Maximum epochs.
    pub epochs: u32,
    /// Examples per step (the last partial batch of an epoch is dropped).
    pub batch_size: usize,
    /// Peak learning rate.
    pub learning_rate: f64,
    /// Warm-up steps.
    pub warmup_steps: u64,
    /// AdamW decoupled weight decay.
    pub weight_decay: f32,
    /// Global gradient-norm clip (0: none).
    pub clip_norm: f32,
    /// Seed of every random draw.
    pub seed: u64,
    /// Stop after this many epochs without a better validation metric (0: never).
    pub patience: u32,
    /// A checkpoint every this many steps (0: only at the end).
    pub checkpoint_every: u64,
    /// Cosine decay after warm-up, or a constant rate.
    #[serde(default)]
    pub constant_lr: bool,
}

/// Times the loop reads a failing batch again (from a fresh iterator, after 0.4, 0.8, 1.6 s)
/// before the run ends with [`TrainError::Data`].
const DATA_RETRIES: u32 = 3;

/// Training batches in the order the loop consumes them; an error is retried
/// ([`DATA_RETRIES`]), then ends the run.
pub type BatchIter<'a, B> = Box<dyn Iterator<Item = Result<B, String>> + 'a>;

/// A model family trained on a data set: where its batches come from, how a batch's loss is
/// computed and how the model is scored on the validation split. Higher metrics are better.
pub trait Task {
    /// The network.
    type Model: Module + Clone;

    /// One training batch as the task's data gives it.
    type Batch;

    /// Training examples.
    fn train_len(&self) -> usize;

    /// The batches of `epoch` from batch `first` on, `batch_size` examples each, in an order
    /// that is a pure function of `seed`, `epoch` and the data (so a resumed or replayed run
    /// sees the same batches). Only the first `train_len() / batch_size` are used.
    fn batches(
        &self,
        seed: u64,
        epoch: u32,
        first: u64,
        batch_size: usize,
    ) -> Result<BatchIter<'_, Self::Batch>, String>;

    /// Mean loss of one batch, on the autodiff device.
    fn loss(&self, model: &Self::Model, batch: Self::Batch, device: &Device) -> Tensor<1>;

    /// Validation metric of a model in inference mode (`Module::valid`).
    fn validate(&self, model: &Self::Model) -> f64;
}

/// Something the loop reports.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// One optimizer step.
    Step {
        /// Steps done.
        step: u64,
        /// Total steps if no early stop.
        total: u64,
        /// Epoch of the step.
        epoch: u32,
        /// Batch loss.
        loss: f64,
        /// Learning rate used.
        lr: f64,
        /// Training examples per second over the run so far.
        samples_per_sec: f64,
    },
    /// An epoch ended and was validated.
    Epoch {
        /// The epoch.
        epoch: u32,
        /// Mean training loss.
        train_loss: f64,
        /// Validation metric.
        metric: f64,
        /// Best so far.
        best: f64,
    },
    /// A checkpoint was taken.
    Checkpoint {
        /// Step of the checkpoint.
        step: u64,
        /// BLAKE3 of its bytes.
        id: String,
    },
    /// Training stopped early.
    EarlyStop {
        /// Last epoch run.
        epoch: u32,
    },
}

/// Why training stopped with an error.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TrainError {
    /// The loss or the gradient norm became NaN or infinite; the step was not applied.
    #[error(
        "loss is not finite at step {step} (epoch {epoch}): loss {loss}, gradient norm {grad_norm}"
    )]
    NonFinite {
        /// Step that diverged.
        step: u64,
        /// Its epoch.
        epoch: u32,
        /// The loss.
        loss: f64,
        /// The gradient norm.
        grad_norm: f64,
    },
    /// Fewer training examples than one batch.
    #[error("{examples} training examples cannot fill one batch of {batch_size}")]
    TooFewExamples {
        /// Examples.
        examples: usize,
        /// Batch size.
        batch_size: usize,
    },
    /// A checkpoint does not fit the model.
    #[error("checkpoint does not fit the model: {0}")]
    Checkpoint(#[from] state::StateError),
    /// The training data could not be read (a shard missing, tampered or cut short).
    #[error("training data failed at epoch {epoch}, batch {batch}: {reason}")]
    Data {
        /// Epoch of the batch.
        epoch: u32,
        /// Batch within the epoch.
        batch: u64,
        /// What failed.
        reason: String,
    },
}

/// The end of a run.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The final state.
    pub last: Checkpoint,
    /// Weights of the best validated epoch (the last weights if none was validated).
    pub best_model: TensorMap,
    /// Every checkpoint id taken, by step (the transcript).
    pub transcript: Vec<(u64, blake3::Hash)>,
    /// Time the loop spent waiting for batches from the task's data.
    pub data_wait_secs: f64,
    /// Time spent in training steps (waiting for data, forward, backward, optimizer), not
    /// counting validation and checkpoints.
    pub step_secs: f64,
}

impl Outcome {
    /// Share of step time spent waiting for data (0 when no step ran).
    pub fn data_wait_fraction(&self) -> f64 {
        if self.step_secs > 0.0 {
            self.data_wait_secs / self.step_secs
        } else {
            0.0
        }
    }
}

/// Data order of one epoch.
pub fn epoch_order(seed: u64, epoch: u32, n: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    Rng::stream(seed, &format!("order/{epoch}")).shuffle(&mut order);
    order
}

/// Batches of indices into in-memory examples, in the order of [`epoch_order`].
pub fn index_batches(
    seed: u64,
    epoch: u32,
    first: u64,
    batch_size: usize,
    n: usize,
) -> BatchIter<'static, Vec<usize>> {
    let order = epoch_order(seed, epoch, n);
    let batches: Vec<Vec<usize>> = order
        .chunks_exact(batch_size.max(1))
        .skip(first as usize)
        .map(<[usize]>::to_vec)
        .collect();
    Box::new(batches.into_iter().map(Ok))
}

/// The training loop bound to a task, a configuration and a device.
pub struct Trainer<'a, T: Task> {
    task: &'a T,
    config: TrainConfig,
    device: Device,
}

/// Whether the loop should go on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    /// Go on.
    Continue,
    /// Stop after this event (the state is checkpointed first).
    Stop,
}

struct Run<M> {
    model: M,
    optim: AdamW,
    progress: Progress,
    best_model: Option<TensorMap>,
}

impl<'a, T: Task> Trainer<'a, T> {
    /// A trainer. `device` must be an autodiff device.
    pub fn new(task: &'a T, config: TrainConfig, device: Device) -> Self {
        Self {
            task,
            config,
            device,
        }
    }

    /// Batches in one epoch.
    pub fn batches_per_epoch(&self) -> u64 {
        (self.task.train_len() / self.config.batch_size) as u64
    }

    fn schedule(&self) -> Schedule {
        Schedule {
            peak: self.config.learning_rate,
            warmup: self.config.warmup_steps,
            total: self.batches_per_epoch() * u64::from(self.config.epochs),
            floor: if self.config.constant_lr { 1.0 } else { 0.02 },
        }
    }

    fn optimizer(&self) -> AdamW {
        AdamW::new(AdamWConfig {
            weight_decay: self.config.weight_decay,
            clip_norm: self.config.clip_norm,
            ..AdamWConfig::default()
        })
    }

    /// Runs from a fresh `model`, or from `resume` (whose tensors are written into `model`),
    /// until the epochs are done, early stopping, or `on_event` says stop.
    pub fn run(
        &self,
        model: T::Model,
        resume: Option<&Checkpoint>,
        on_event: &mut dyn FnMut(&Event, Option<&Checkpoint>) -> Control,
    ) -> Result<Outcome, TrainError> {
        self.run_until(model, resume, None, on_event)
    }

    /// Re-executes the segment after `from` up to its next checkpoint and returns that
    /// checkpoint, whose id a verifier compares with the transcript's.
    pub fn replay(&self, model: T::Model, from: &Checkpoint) -> Result<Checkpoint, TrainError> {
        let k = self.config.checkpoint_every.max(1);
        let until = (from.progress.step / k + 1) * k;
        Ok(self
            .run_until(model, Some(from), Some(until), &mut |_, _| {
                Control::Continue
            })?
            .last)
    }

    fn run_until(
        &self,
        model: T::Model,
        resume: Option<&Checkpoint>,
        until: Option<u64>,
        on_event: &mut dyn FnMut(&Event, Option<&Checkpoint>) -> Control,
    ) -> Result<Outcome, TrainError> {
        let per_epoch = self.batches_per_epoch();
        if per_epoch == 0 {
            return Err(TrainError::TooFewExamples {
                examples: self.task.train_len(),
                batch_size: self.config.batch_size,
            });
        }
        let mut run = match resume {
            None => Run {
                model,
                optim: self.optimizer(),
                progress: Progress {
                    step: 0,
                    epoch: 0,
                    batch: 0,
                    best_metric: None,
                    best_epoch: None,
                    epochs_without_improvement: 0,
                },
                best_model: None,
            },
            Some(c) => self.restore(model, c)?,
        };
        let schedule = self.schedule();
        let total = schedule.total;
        let started = Instant::now();
        let mut samples = 0u64;
        let mut transcript = Vec::new();
        let mut epoch_loss = (0.0f64, 0u64);
        let k = self.config.checkpoint_every;
        if resume.is_none() && k > 0 {
            let c = self.snapshot(&run);
            let id = c.id();
            transcript.push((0, id));
            if on_event(
                &Event::Checkpoint {
                    step: 0,
                    id: id.to_hex().to_string(),
                },
                Some(&c),
            ) == Control::Stop
            {
                return Ok(self.outcome(run, transcript, (0.0, 0.0)));
            }
        }
        let mut batches: Option<BatchIter<'_, T::Batch>> = None;
        let mut data_wait = 0.0f64;
        let mut step_time = 0.0f64;
        let mut data_retries = 0u32;
        while run.progress.epoch < self.config.epochs {
            if until.is_some_and(|u| run.progress.step >= u) {
                break;
            }
            let step_started = Instant::now();
            let data_error = |reason: String| TrainError::Data {
                epoch: run.progress.epoch,
                batch: u64::from(run.progress.batch),
                reason,
            };
            let iter = match batches.as_mut() {
                Some(iter) => iter,
                None => batches.insert(
                    self.task
                        .batches(
                            self.config.seed,
                            run.progress.epoch,
                            u64::from(run.progress.batch),
                            self.config.batch_size,
                        )
                        .map_err(data_error)?,
                ),
            };
            let batch = match iter.next() {
                Some(Ok(batch)) => batch,
                Some(Err(_)) if data_retries < DATA_RETRIES => {
                    // The batches are a function of (seed, epoch, batch): reading them again
                    // from here is exact. A source that failed once (a node gone, a blob
                    // quarantined) may serve on the next try.
                    data_retries += 1;
                    batches = None;
                    std::thread::sleep(std::time::Duration::from_millis(200 << data_retries));
                    data_wait += step_started.elapsed().as_secs_f64();
                    continue;
                }
                Some(Err(reason)) => return Err(data_error(reason)),
                None => return Err(data_error("the data ended before the epoch".into())),
            };
            data_retries = 0;
            data_wait += step_started.elapsed().as_secs_f64();
            let lr = schedule.rate(run.progress.step);
            let loss = self.task.loss(&run.model, batch, &self.device);
            let loss_value: f32 = loss.clone().inner().into_scalar();
            let grads = GradientsParams::from_grads(loss.backward(), &run.model);
            let (model, norm) = run.optim.step(lr, run.model.clone(), grads);
            if !loss_value.is_finite() || !norm.is_finite() {
                return Err(TrainError::NonFinite {
                    step: run.progress.step,
                    epoch: run.progress.epoch,
                    loss: f64::from(loss_value),
                    grad_norm: f64::from(norm),
                });
            }
            run.model = model;
            step_time += step_started.elapsed().as_secs_f64();
            run.progress.step += 1;
            run.progress.batch += 1;
            samples += self.config.batch_size as u64;
            epoch_loss.0 += f64::from(loss_value);
            epoch_loss.1 += 1;
            let mut stop = on_event(
                &Event::Step {
                    step: run.progress.step,
                    total,
                    epoch: run.progress.epoch,
                    loss: f64::from(loss_value),
                    lr,
                    samples_per_sec: samples as f64 / started.elapsed().as_secs_f64().max(1e-9),
                },
                None,
            ) == Control::Stop;
            let mut early = false;
            if u64::from(run.progress.batch) == per_epoch {
                let metric = self.task.validate(&run.model.valid());
                let improved = run.progress.best_metric.is_none_or(|b| metric > b);
                if improved {
                    run.progress.best_metric = Some(metric);
                    run.progress.best_epoch = Some(run.progress.epoch);
                    run.progress.epochs_without_improvement = 0;
                    run.best_model = Some(state::collect(&run.model));
                } else {
                    run.progress.epochs_without_improvement += 1;
                }
                stop |= on_event(
                    &Event::Epoch {
                        epoch: run.progress.epoch,
                        train_loss: epoch_loss.0 / epoch_loss.1.max(1) as f64,
                        metric,
                        best: run.progress.best_metric.unwrap_or(metric),
                    },
                    None,
                ) == Control::Stop;
                epoch_loss = (0.0, 0);
                run.progress.epoch += 1;
                run.progress.batch = 0;
                batches = None;
                if self.config.patience > 0
                    && run.progress.epochs_without_improvement >= self.config.patience
                {
                    early = true;
                    // Early stopping ends the run: no further epochs.
                    run.progress.epoch = self.config.epochs;
                }
            }
            let at_k = k > 0 && run.progress.step % k == 0;
            let finished = run.progress.epoch >= self.config.epochs;
            if at_k || finished || stop {
                let c = self.snapshot(&run);
                let id = c.id();
                // The transcript commits to the fixed grid (every k steps and the end); a
                // checkpoint taken only because the run was stopped (preemption) is handed to
                // `on_event` to resume from, but is not part of it, so a run stopped and
                // resumed commits to exactly the transcript of an uninterrupted one.
                if at_k || finished {
                    transcript.push((run.progress.step, id));
                }
                stop |= on_event(
                    &Event::Checkpoint {
                        step: run.progress.step,
                        id: id.to_hex().to_string(),
                    },
                    Some(&c),
                ) == Control::Stop;
            }
            if early {
                on_event(
                    &Event::EarlyStop {
                        epoch: run.progress.epoch,
                    },
                    None,
                );
            }
            if stop {
                break;
            }
        }
        drop(batches);
        Ok(self.outcome(run, transcript, (data_wait, step_time)))
    }

    fn outcome(
        &self,
        run: Run<T::Model>,
        transcript: Vec<(u64, blake3::Hash)>,
        (data_wait_secs, step_secs): (f64, f64),
    ) -> Outcome {
        let last = self.snapshot(&run);
        let best_model = run.best_model.unwrap_or_else(|| last.model.clone());
        Outcome {
            last,
            best_model,
            transcript,
            data_wait_secs,
            step_secs,
        }
    }

    fn snapshot(&self, run: &Run<T::Model>) -> Checkpoint {
        // burn keeps the last training step's update of running statistics (batch norm)
        // pending until they are next read in sync; `valid()` syncs every one of them, so the
        // checkpoint holds them (without this a run resumed between two steps differed).
        let _ = run.model.valid();
        let mut optimizer = TensorMap::new();
        for (path, m) in &run.optim.state {
            for (suffix, t) in [("m", &m.m), ("v", &m.v)] {
                let values = t
                    .to_data()
                    .try_into_vec_as::<f32>()
                    .expect("float tensor casts to f32");
                optimizer.insert(
                    format!("{path}.{suffix}"),
                    NamedTensor {
                        shape: vec![values.len()],
                        values,
                    },
                );
            }
        }
        let mut model = state::collect(&run.model);
        if let Some(best) = &run.best_model {
            for (k, v) in best {
                model.insert(format!("best.{k}"), v.clone());
            }
        }
        Checkpoint {
            progress: run.progress.clone(),
            model,
            optimizer,
        }
    }

    fn restore(&self, model: T::Model, c: &Checkpoint) -> Result<Run<T::Model>, TrainError> {
        let mut current = TensorMap::new();
        let mut best = TensorMap::new();
        for (k, v) in &c.model {
            match k.strip_prefix("best.") {
                Some(rest) => best.insert(rest.to_string(), v.clone()),
                None => current.insert(k.clone(), v.clone()),
            };
        }
        let model = state::apply(model, &current)?;
        let mut optim = self.optimizer();
        let inner = self.device.clone().inner();
        // One optimizer step per loop step: the step count is the loop's.
        optim.step = c.progress.step;
        for (k, v) in &c.optimizer {
            let (path, which) = k
                .rsplit_once('.')
                .ok_or_else(|| state::StateError::Unexpected(k.clone()))?;
            let t = Tensor::<1>::from_data(
                burn::tensor::TensorData::new(v.values.clone(), [v.values.len()]),
                &inner,
            );
            let entry = optim
                .state
                .entry(path.to_string())
                .or_insert_with(|| Moments {
                    m: Tensor::zeros([v.values.len()], &inner),
                    v: Tensor::zeros([v.values.len()], &inner),
                });
            match which {
                "m" => entry.m = t,
                "v" => entry.v = t,
                _ => return Err(state::StateError::Unexpected(k.clone()).into()),
            }
        }
        Ok(Run {
            model,
            optim,
            progress: c.progress.clone(),
            best_model: if best.is_empty() { None } else { Some(best) },
        })
    }
}
