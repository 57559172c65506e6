// One struct per config section. Defaults equal BigGAN-PyTorch's parser defaults (spec §1);
// keys keep BigGAN-PyTorch's flag names so that `--G_ch 96` becomes `model.G_ch: 96`.
// Each struct lists its fields once, in visit(); parsing, printing and documentation all use it.
// configs/README.md maps every BigGAN-PyTorch flag to its key. Choices are enums, named in
// config/choices.h.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/choices.h"

namespace biggan::config {

struct DataConfig {
  std::string dataset = "I128_hdf5";  // --dataset; a row of the dataset table (config/datasets.cpp)
  std::string data_root = "data";     // --data_root; the dataset's file is looked up here
  std::string path;                   // explicit HDF5 path; overrides data_root + the table's file name
  int resolution = 0;                 // 0: from the dataset table; required for `custom`
  int n_classes = 0;                  // 0: from the dataset table; required for `custom`
  bool load_in_mem = false;           // --load_in_mem; keep this rank's shard in RAM
  bool shuffle = false;               // --shuffle; permute the order every epoch (seeded)
  bool augment = false;               // --augment; random horizontal flips (the original had none for HDF5)
  int prefetch_batches = 4;           // streaming mode: batches read ahead by the background thread
  bool pin_memory = true;             // --no_pin_memory; pinned host buffers for GPU copies

  template <class V>
  void visit(V&& v) {
    v("dataset", dataset);
    v("data_root", data_root);
    v("path", path);
    v("resolution", resolution);
    v("n_classes", n_classes);
    v("load_in_mem", load_in_mem);
    v("shuffle", shuffle);
    v("augment", augment);
    v("prefetch_batches", prefetch_batches);
    v("pin_memory", pin_memory);
  }
};

struct ModelConfig {
  model::Architecture model = model::Architecture::BigGAN;  // --model: BigGAN | BigGANdeep
  model::Parameterization G_param = model::Parameterization::SN;  // --G_param: SN | none (plain conv/linear in G)
  model::Parameterization D_param = model::Parameterization::SN;  // --D_param: only SN (the original crashes otherwise)
  int G_ch = 64;
  int D_ch = 64;
  int G_depth = 1;                    // residual blocks per stage (BigGAN-deep only)
  int D_depth = 1;
  bool D_wide = true;                 // --D_thin sets false (SN-GAN channel pattern)
  bool G_shared = false;              // one shared class embedding in G
  int shared_dim = 0;                 // 0: dim_z
  int dim_z = 128;                    // with hier: rounded down to a multiple of the slot count
  bool hier = false;                  // hierarchical latent (needs G_shared)
  bool cross_replica = false;         // cross-replica (synchronised) BN in G
  bool mybn = false;                  // manual BN with exact standing statistics
  model::Activation G_nl = model::Activation::relu;  // relu | inplace_relu | ir
  model::Activation D_nl = model::Activation::relu;
  std::string G_attn = "64";          // underscore-separated resolutions with self-attention; 0 = none
  std::string D_attn = "64";
  model::NormStyle norm_style = model::NormStyle::bn;  // bn | in | gn | nonorm (gn works here, unlike the original)
  int bottom_width = 4;               // G's starting spatial size (constructor argument, no flag)
  model::WeightInit G_init = model::WeightInit::ortho;  // ortho | N02 | glorot | xavier
  model::WeightInit D_init = model::WeightInit::ortho;
  bool skip_init = false;
  double SN_eps = 1e-8;
  int num_G_SVs = 1;
  int num_D_SVs = 1;
  int num_G_SV_itrs = 1;
  int num_D_SV_itrs = 1;
  double BN_eps = 1e-5;
  model::Precision G_precision = model::Precision::fp32;  // fp32 | bf16 (autocast; replaces --G_fp16/--G_mixed_precision)
  model::Precision D_precision = model::Precision::fp32;
  model::MemoryLayout channels_last = model::MemoryLayout::automatic;  // auto (by device and CPU ISA) | true (NHWC) | false (NCHW)
  bool fused_resampling = true;       // 3x3 convolutions next to a 2x up/downsampling run at the low resolution

  template <class V>
  void visit(V&& v) {
    v("model", model);
    v("G_param", G_param);
    v("D_param", D_param);
    v("G_ch", G_ch);
    v("D_ch", D_ch);
    v("G_depth", G_depth);
    v("D_depth", D_depth);
    v("D_wide", D_wide);
    v("G_shared", G_shared);
    v("shared_dim", shared_dim);
    v("dim_z", dim_z);
    v("hier", hier);
    v("cross_replica", cross_replica);
    v("mybn", mybn);
    v("G_nl", G_nl);
    v("D_nl", D_nl);
    v("G_attn", G_attn);
    v("D_attn", D_attn);
    v("norm_style", norm_style);
    v("bottom_width", bottom_width);
    v("G_init", G_init);
    v("D_init", D_init);
    v("skip_init", skip_init);
    v("SN_eps", SN_eps);
    v("num_G_SVs", num_G_SVs);
    v("num_D_SVs", num_D_SVs);
    v("num_G_SV_itrs", num_G_SV_itrs);
    v("num_D_SV_itrs", num_D_SV_itrs);
    v("BN_eps", BN_eps);
    v("G_precision", G_precision);
    v("D_precision", D_precision);
    v("channels_last", channels_last);
    v("fused_resampling", fused_resampling);
  }
};

struct OptimConfig {
  double G_lr = 5e-5;
  double D_lr = 2e-4;
  double G_B1 = 0.0;
  double D_B1 = 0.0;
  double G_B2 = 0.999;
  double D_B2 = 0.999;
  double adam_eps = 1e-8;
  double G_ortho = 0.0;               // modified orthogonal regularisation strength (paper: 1e-4)
  double D_ortho = 0.0;
  bool toggle_grads = true;           // can be turned off here, unlike the original
  LrSchedule lr_schedule = LrSchedule::constant;  // constant | linear_decay (after lr_decay_start, to the last iteration)
  std::int64_t lr_decay_start = 0;    // linear_decay: the last iteration at the full rates

  template <class V>
  void visit(V&& v) {
    v("G_lr", G_lr);
    v("D_lr", D_lr);
    v("G_B1", G_B1);
    v("D_B1", D_B1);
    v("G_B2", G_B2);
    v("D_B2", D_B2);
    v("adam_eps", adam_eps);
    v("G_ortho", G_ortho);
    v("D_ortho", D_ortho);
    v("toggle_grads", toggle_grads);
    v("lr_schedule", lr_schedule);
    v("lr_decay_start", lr_decay_start);
  }
};

// train.diffaug: "color,translation,cutout" (any of them, in the order they apply); "" is off.
using AugmentPolicy = std::vector<Augmentation>;

struct TrainConfig {
  int seed = 0;
  int batch_size = 64;                // micro-batch of real images per rank and accumulation
  int G_batch_size = 0;               // effective: max(G_batch_size, batch_size)
  int global_batch_size = 0;          // 0: batch_size x num_D_accumulations x ranks; else accumulations are derived
  int num_D_steps = 2;
  int num_D_accumulations = 1;
  int num_G_accumulations = 1;
  bool split_D = false;
  int num_epochs = 100;
  std::int64_t total_iterations = 0;  // stop after this many iterations; 0: run num_epochs
  TrainFunction which_train_fn = TrainFunction::GAN;
  bool ema = false;
  double ema_decay = 0.9999;
  bool use_ema = false;
  int ema_start = 0;
  AugmentPolicy diffaug;              // DiffAugment on every D input; empty: off (BigGAN-PyTorch has none)

  template <class V>
  void visit(V&& v) {
    v("seed", seed);
    v("batch_size", batch_size);
    v("G_batch_size", G_batch_size);
    v("global_batch_size", global_batch_size);
    v("num_D_steps", num_D_steps);
    v("num_D_accumulations", num_D_accumulations);
    v("num_G_accumulations", num_G_accumulations);
    v("split_D", split_D);
    v("num_epochs", num_epochs);
    v("total_iterations", total_iterations);
    v("which_train_fn", which_train_fn);
    v("ema", ema);
    v("ema_decay", ema_decay);
    v("use_ema", use_ema);
    v("ema_start", ema_start);
    v("diffaug", diffaug);
  }
};

struct DistConfig {
  distributed::Backend backend = distributed::Backend::automatic;  // auto (NCCL for CUDA tensors, MPI otherwise) | mpi | nccl
  int intra_op_threads = 1;           // torch threads per rank; 1 rank per core is fastest on CPU
  int consistency_check_every = 1000; // compare parameter checksums across ranks; 0: never

  template <class V>
  void visit(V&& v) {
    v("backend", backend);
    v("intra_op_threads", intra_op_threads);
    v("consistency_check_every", consistency_check_every);
  }
};

struct CkptConfig {
  int save_every = 2000;
  int num_save_copies = 2;
  int num_best_copies = 2;
  BestMetric which_best = BestMetric::IS;  // IS | FID | classifier (demo metric)
  int keep_every = 0;                 // also keep every N-th iteration's checkpoint forever; 0: off
  bool async_save = true;             // write in a background thread while training continues
  StopSignal stop_signal = StopSignal::USR2;  // USR1 | USR2 | TERM | INT | HUP | URG
  int walltime_minutes = 0;           // own deadline when not under Slurm; 0: none

  template <class V>
  void visit(V&& v) {
    v("save_every", save_every);
    v("num_save_copies", num_save_copies);
    v("num_best_copies", num_best_copies);
    v("which_best", which_best);
    v("keep_every", keep_every);
    v("async_save", async_save);
    v("stop_signal", stop_signal);
    v("walltime_minutes", walltime_minutes);
  }
};

struct EvalConfig {
  int test_every = 5000;
  // Iterations evaluated besides every test_every, ascending: where a short run's score still
  // swings between evaluations, a best checkpoint kept from more of them (the demo's last 250).
  std::vector<std::int64_t> test_at;
  int num_inception_images = 50000;
  bool no_fid = false;
  bool accumulate_stats = false;
  int num_standing_accumulations = 16;
  bool G_eval_mode = false;
  std::string inception_moments;      // path to the dataset's moments; empty: <data_root>/<dataset>_inception_moments.h5
  std::string inception_weights;      // torchvision or pt_inception .pth state_dict
  metrics::InceptionFlavour inception_flavour = metrics::InceptionFlavour::torchvision;  // torchvision (BigGAN-PyTorch's numbers) | fid (TF 2015 port)
  std::string classifier;             // demo metric (which_best: classifier): empty = <dataset>_classifier.h5
  int num_classifier_samples = 5000;  // class-balanced samples scored by the classifier metric

  template <class V>
  void visit(V&& v) {
    v("test_every", test_every);
    v("test_at", test_at);
    v("num_inception_images", num_inception_images);
    v("no_fid", no_fid);
    v("accumulate_stats", accumulate_stats);
    v("num_standing_accumulations", num_standing_accumulations);
    v("G_eval_mode", G_eval_mode);
    v("inception_moments", inception_moments);
    v("inception_weights", inception_weights);
    v("inception_flavour", inception_flavour);
    v("classifier", classifier);
    v("num_classifier_samples", num_classifier_samples);
  }
};

struct SampleConfig {
  double z_var = 1.0;                 // std of z when sampling (the original's --z_var)
  double truncation = 0.0;            // true truncated normal threshold; 0: off
  bool sample_npz = false;
  int sample_num_npz = 50000;
  bool sample_sheets = false;
  bool sample_interps = false;
  int sample_sheet_folder_num = -1;
  bool sample_random = false;
  std::string sample_trunc_curves;    // start_step_end, e.g. 0.05_0.05_1.0
  bool sample_inception_metrics = false;
  int classes_per_sheet = 0;          // 0: the dataset table's value
  int samples_per_class = 10;
  int interp_rows = 16;
  int interp_midpoints = 8;

  template <class V>
  void visit(V&& v) {
    v("z_var", z_var);
    v("truncation", truncation);
    v("sample_npz", sample_npz);
    v("sample_num_npz", sample_num_npz);
    v("sample_sheets", sample_sheets);
    v("sample_interps", sample_interps);
    v("sample_sheet_folder_num", sample_sheet_folder_num);
    v("sample_random", sample_random);
    v("sample_trunc_curves", sample_trunc_curves);
    v("sample_inception_metrics", sample_inception_metrics);
    v("classes_per_sheet", classes_per_sheet);
    v("samples_per_class", samples_per_class);
    v("interp_rows", interp_rows);
    v("interp_midpoints", interp_midpoints);
  }
};

struct LogConfig {
  int sv_log_interval = 10;           // log every sv buffer every N iterations; 0: never
  logging::ProgressStyle pbar = logging::ProgressStyle::automatic;  // auto (bar on a terminal, lines otherwise) | bar | lines | none
  logging::Level level = logging::Level::info;  // debug | info | warn | error
  bool rank_files = false;            // every rank also logs to logs/rank<N>.log
  int print_every = 0;                // progress line every N iterations when not a terminal; 0: every 30 s

  template <class V>
  void visit(V&& v) {
    v("sv_log_interval", sv_log_interval);
    v("pbar", pbar);
    v("level", level);
    v("rank_files", rank_files);
    v("print_every", print_every);
  }
};

// finetune.class_map: new class i starts from the mean of the pretrained classes in entry i.
using ClassMap = std::vector<std::vector<int>>;

struct FinetuneConfig {
  std::string init_from;              // a new run starts from these weights: a BigGAN-PyTorch weights
                                      // folder, one of our checkpoints or a run folder (its newest)
  ClassInit class_init = ClassInit::automatic;  // auto (copy when the class counts agree) | copy | map | mean | random
  ClassMap class_map;                 // class_init map: [[207, 208], 151, ...], one entry per new class
  bool keep_optimizer = false;        // carry the Adam state over (its shapes must agree)
  int freeze_D_blocks = 0;            // FreezeD: D's first K residual blocks stay fixed

  template <class V>
  void visit(V&& v) {
    v("init_from", init_from);
    v("class_init", class_init);
    v("class_map", class_map);
    v("keep_optimizer", keep_optimizer);
    v("freeze_D_blocks", freeze_D_blocks);
  }
};

struct PathsConfig {
  std::string base_root;              // --base_root: sets data_root to <base>/data and runs_root to <base>/runs
  std::string runs_root = "runs";     // run folders live in <runs_root>/<experiment>/
  std::string experiment_name;        // empty: derived from the config like name_from_config
  std::string name_suffix;
  bool hashname = false;              // adjective+gerund+Animal from a stable hash of the name

  template <class V>
  void visit(V&& v) {
    v("base_root", base_root);
    v("runs_root", runs_root);
    v("experiment_name", experiment_name);
    v("name_suffix", name_suffix);
    v("hashname", hashname);
  }
};

}  // namespace biggan::config
