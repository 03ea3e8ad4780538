/* ----------------------------------------------------------------------
   pair_style mlip: runs a TorchScript model that follows the mlip-lammps model contract
   (docs/model-contract.md).

   A local model (energy of atom i depends on atoms within the cutoff of i) is evaluated on each
   rank's local atoms with a FULL neighbour list that includes ghost neighbours; a
   message-passing model on the periodic graph (1 rank) or with ghost nodes (several ranks, see
   init_style). The model returns per-atom energies and dE/d(edge vector); forces on ghost atoms
   are folded back to their owners by LAMMPS reverse communication (newton_pair on).
------------------------------------------------------------------------- */

#include "pair_mlip.h"

#include "mlip_ops.h"    // libmlip_ops.so: the mlip:: torch operators fused models call

#include "atom.h"
#include "comm.h"
#include "error.h"
#include "force.h"
#include "json.h"
#include "memory.h"
#include "neigh_list.h"
#include "neighbor.h"
#include "platform.h"
#include "update.h"
#include "utils.h"

#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/script.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <set>

using namespace LAMMPS_NS;

static constexpr int SUPPORTED_CONTRACT_VERSION = 1;
static constexpr const char *METADATA_FILE = "metadata.json";

// torch state, kept out of pair_mlip.h so that header compiles without torch
struct PairMLIP::Model {
  std::vector<torch::jit::Module> modules;    // one per model file
  int64_t committee_size{1};                  // members inside a single committee file
  torch::Device device{torch::kCPU};
  torch::ScalarType dtype{torch::kFloat64};
  bool message_passing{false};    // model_type "message_passing": forward also takes edge owners
  int num_layers{0};              // message passing: layers (0 = not in the metadata)
  std::vector<torch::jit::IValue> inputs;
};

// one model file, read and checked against the contract
struct ModelFile {
  torch::jit::Module module;
  std::vector<std::string> species;
  double cutoff = 0.0;
  std::string dtype, architecture;
  int64_t committee_size = 1;
  bool uses_ops = false;
  bool message_passing = false;
  int num_layers = 0;
};

// an atom's position or force in LAMMPS' contiguous (n, 3) arrays (atom->x[0], atom->f[0])
struct Vec3 {
  double x, y, z;
};

// c10::Error messages can span many lines (TorchScript call stacks); the first line says what
// went wrong, which is what belongs in a LAMMPS error message
static std::string first_line(const std::string &msg)
{
  return msg.substr(0, msg.find('\n'));
}

// tensor shape as "[a, b]" for error messages
static std::string shape_str(const torch::Tensor &t)
{
  std::string s = "[";
  for (int64_t d = 0; d < t.dim(); d++) s += (d ? ", " : "") + std::to_string(t.size(d));
  return s + "]";
}

/* ---------------------------------------------------------------------- */

PairMLIP::PairMLIP(LAMMPS *lmp) :
    Pair(lmp), nmembers(1), cutoff(0.0), cutoff_sq(0.0), nthreads(1), min_dist(0.5),
    chunk_atoms(0), ghost_nodes(false), ghost_graph_logged(false), out_freq(0),
    out_fp(nullptr), last_out_step(-1), deviation_flag(0),
    extra_values(4, 0.0)
{
  single_enable = 0;              // no single(): energy is many-body
  restartinfo = 0;                // the model file is not stored in restart files
  one_coeff = 1;                  // only "pair_coeff * * El1 ... ElN"
  manybody_flag = 1;
  no_virial_fdotr_compute = 1;    // virial is summed explicitly over edges in compute()
  // per-atom virial splits each edge term half/half; that is not the centroid form
  centroidstressflag = CENTROID_NOTAVAIL;
  // compute pair mlip: max, min, mean committee force deviation, energy deviation
  nextra = 4;
  pvector = extra_values.data();
}

/* ---------------------------------------------------------------------- */

PairMLIP::~PairMLIP()
{
  if (copymode) return;
  if (out_fp) fclose(out_fp);
  if (allocated) {
    memory->destroy(setflag);
    memory->destroy(cutsq);
  }
}

/* ---------------------------------------------------------------------- */

void PairMLIP::allocate()
{
  allocated = 1;
  const int n = atom->ntypes;
  memory->create(setflag, n + 1, n + 1, "pair:setflag");
  for (int i = 1; i <= n; i++)
    for (int j = i; j <= n; j++) setflag[i][j] = 0;
  memory->create(cutsq, n + 1, n + 1, "pair:cutsq");
  type2species.assign(n + 1, -1);
}

/* ----------------------------------------------------------------------
   pair_style mlip MODEL.pt [MODEL2.pt ...] [device cpu|cuda|auto] [threads N]
                   [min_dist R] [chunk N] [out_freq N] [out_file FILE]
------------------------------------------------------------------------- */

void PairMLIP::settings(int narg, char **arg)
{
  if (narg < 1) utils::missing_cmd_args(FLERR, "pair_style mlip", error);

  static const std::set<std::string> keywords{"device", "threads", "min_dist", "chunk",
                                              "out_freq", "out_file"};
  int iarg = 0;
  model_paths.clear();
  while (iarg < narg && !keywords.count(arg[iarg])) model_paths.emplace_back(arg[iarg++]);
  if (model_paths.empty())
    error->all(FLERR, "pair_style mlip: the first argument must be a model file, got keyword '{}'",
               arg[0]);

  std::string device_request = "auto";
  // default: OMP_NUM_THREADS if set, else 1, so that MPI ranks sharing a node do not
  // oversubscribe its cores (torch would otherwise use all cores in every rank)
  nthreads = 1;
  const char *omp_env = std::getenv("OMP_NUM_THREADS");
  if (omp_env) {
    const long n = std::strtol(omp_env, nullptr, 10);
    if (n > 0) nthreads = static_cast<int>(n);
  }
  min_dist = 0.5;
  int chunk = -1;    // default chosen once the device is known
  out_freq = 0;
  out_file = "";

  while (iarg < narg) {
    const std::string key = arg[iarg];
    if (iarg + 2 > narg) utils::missing_cmd_args(FLERR, "pair_style mlip " + key, error);
    const char *value = arg[iarg + 1];
    if (key == "device") {
      device_request = value;
      if (device_request != "cpu" && device_request != "cuda" && device_request != "auto")
        error->all(FLERR, "Illegal pair_style mlip device '{}': expected cpu, cuda or auto",
                   device_request);
    } else if (key == "threads") {
      nthreads = utils::inumeric(FLERR, value, false, lmp);
      if (nthreads < 1)
        error->all(FLERR, "Illegal pair_style mlip threads {}: must be at least 1", nthreads);
    } else if (key == "min_dist") {
      min_dist = utils::numeric(FLERR, value, false, lmp);
      if (min_dist < 0.0)
        error->all(FLERR, "Illegal pair_style mlip min_dist {}: must be >= 0", min_dist);
    } else if (key == "chunk") {
      chunk = utils::inumeric(FLERR, value, false, lmp);
      if (chunk < 0) error->all(FLERR, "Illegal pair_style mlip chunk {}: must be >= 0", chunk);
    } else if (key == "out_freq") {
      out_freq = utils::inumeric(FLERR, value, false, lmp);
      if (out_freq < 0)
        error->all(FLERR, "Illegal pair_style mlip out_freq {}: must be >= 0", out_freq);
    } else if (key == "out_file") {
      out_file = value;
    } else {
      error->all(FLERR, "Unknown pair_style mlip keyword '{}': expected a model file before any "
                 "keyword, then device, threads, min_dist, chunk, out_freq or out_file", key);
    }
    iarg += 2;
  }

  // intra-op threads of this rank; set here, once per pair_style command, never per step
  at::set_num_threads(nthreads);

  load_models(device_request);
  // CPU: bounded memory at no measurable cost; GPU: one call per step keeps the device busy
  // (a message-passing model needs the whole graph in one call: init_style rejects a chunk)
  chunk_atoms = (chunk >= 0) ? chunk : (model->device.is_cpu() && !model->message_passing ? 8192 : 0);
  if (comm->me == 0 && chunk_atoms > 0)
    utils::logmesg(lmp, "pair_style mlip: at most {} local atoms per model call\n", chunk_atoms);

  if (nmembers < 2 && (out_freq > 0 || !out_file.empty()))
    error->all(FLERR, "pair_style mlip out_freq/out_file: the committee force deviation needs a "
               "committee (several model files or one committee model); {} has one member",
               model_paths[0]);
  if (out_freq > 0 && out_file.empty()) out_file = "model_devi.out";
  if (!out_file.empty() && out_freq == 0) out_freq = 100;
  // ghost atoms' per-member forces are summed back onto their owners for the deviation
  comm_reverse = 3 * nmembers;

  if (out_fp) fclose(out_fp);
  out_fp = nullptr;
  last_out_step = -1;
  if (out_freq > 0 && comm->me == 0) {
    out_fp = fopen(out_file.c_str(), "w");
    if (!out_fp)
      error->one(FLERR, "pair_style mlip: cannot open out_file {}: {}", out_file,
                 utils::getsyserror());
    utils::print(out_fp,
               "# committee of {} members; force deviation sqrt(<|F_m - <F>|^2>_m) in eV/A, "
               "energy deviation std_m(E_m)/N in eV/atom\n"
               "# {:>10} {:>14} {:>14} {:>14} {:>14}\n",
               nmembers, "step", "max_devi_f", "min_devi_f", "avg_devi_f", "devi_e");
    fflush(out_fp);
  }

  // a (re)loaded model may have other species or cutoff: require a fresh pair_coeff
  if (allocated) {
    const int n = atom->ntypes;
    for (int i = 1; i <= n; i++)
      for (int j = i; j <= n; j++) setflag[i][j] = 0;
    type2species.assign(n + 1, -1);
  }
}

/* ----------------------------------------------------------------------
   read one TorchScript model file and check its metadata against the contract
------------------------------------------------------------------------- */

static ModelFile read_model_file(const std::string &path, Error *error)
{
  if (!platform::file_is_readable(path))
    error->all(FLERR, "pair_style mlip: cannot open model file {}: {}", path,
               utils::getsyserror());

  ModelFile m;
  torch::jit::ExtraFilesMap extra_files{{METADATA_FILE, ""}};
  try {
    // load on the CPU first: metadata decides dtype, and the device is chosen later
    m.module = torch::jit::load(path, torch::Device(torch::kCPU), extra_files);
  } catch (const c10::Error &e) {
    error->all(FLERR, "pair_style mlip: {} is not a valid TorchScript mlip model: {}", path,
               first_line(e.what_without_backtrace()));
  } catch (const std::exception &e) {
    error->all(FLERR, "pair_style mlip: {} is not a valid TorchScript mlip model: {}", path,
               first_line(e.what()));
  }

  // ---- metadata.json ----

  const std::string &meta_text = extra_files[METADATA_FILE];
  if (meta_text.empty())
    error->all(FLERR,
               "pair_style mlip: model file {} has no {}; it was not exported by mlip-lammps",
               path, METADATA_FILE);

  json meta;
  try {
    meta = json::parse(meta_text);
  } catch (const std::exception &e) {
    error->all(FLERR, "pair_style mlip: cannot parse {} in model file {}: {}", METADATA_FILE,
               path, e.what());
  }
  if (!meta.is_object())
    error->all(FLERR, "pair_style mlip: {} in model file {} is not a JSON object", METADATA_FILE,
               path);

  auto require = [&](const char *key) -> const json & {
    if (!meta.contains(key))
      error->all(FLERR, "pair_style mlip: {} in model file {} lacks the key '{}'", METADATA_FILE,
                 path, key);
    return meta[key];
  };
  auto require_string = [&](const char *key) -> std::string {
    const json &value = require(key);
    if (!value.is_string())
      error->all(FLERR, "pair_style mlip: metadata key '{}' in model file {} must be a string",
                 key, path);
    return value.get<std::string>();
  };

  // the version comes first: other keys may mean something else in other versions
  const json &version = require("contract_version");
  if (!version.is_number_integer())
    error->all(FLERR, "pair_style mlip: metadata key 'contract_version' in {} must be an integer",
               path);
  if (version.get<int>() != SUPPORTED_CONTRACT_VERSION)
    error->all(FLERR, "pair_style mlip: {} has model contract version {}, plugin supports {}",
               path, version.get<int>(), SUPPORTED_CONTRACT_VERSION);

  const std::string model_type = require_string("model_type");
  if (model_type != "local" && model_type != "message_passing")
    error->all(FLERR,
               "pair_style mlip: {} has model_type '{}', plugin supports 'local' and "
               "'message_passing' models", path, model_type);
  m.message_passing = (model_type == "message_passing");

  const std::string units = require_string("units");
  if (units != "metal")
    error->all(FLERR, "pair_style mlip: {} uses units '{}', plugin supports only 'metal'", path,
               units);

  m.dtype = require_string("dtype");
  if (m.dtype != "float64" && m.dtype != "float32")
    error->all(FLERR, "pair_style mlip: {} has dtype '{}', expected float64 or float32", path,
               m.dtype);

  // optional: the torch operator library the model calls; this plugin links libmlip_ops.so
  if (meta.contains("requires_ops")) {
    if (!meta["requires_ops"].is_string() || meta["requires_ops"].get<std::string>() != "mlip")
      error->all(FLERR,
                 "pair_style mlip: {} needs torch operators '{}'; this plugin provides only 'mlip'",
                 path, meta["requires_ops"].dump());
    m.uses_ops = true;
  }

  // optional (message passing): an atom's energy depends on atoms num_layers * cutoff away
  if (meta.contains("num_layers")) {
    if (!meta["num_layers"].is_number_integer() || meta["num_layers"].get<int>() < 1)
      error->all(FLERR, "pair_style mlip: metadata key 'num_layers' in {} must be a positive "
                 "integer", path);
    m.num_layers = meta["num_layers"].get<int>();
  }

  const json &cut = require("cutoff");
  if (!cut.is_number() || !(cut.get<double>() > 0.0))
    error->all(FLERR, "pair_style mlip: metadata key 'cutoff' in {} must be a positive number",
               path);
  m.cutoff = cut.get<double>();

  const json &spec = require("species");
  if (!spec.is_array() || spec.empty())
    error->all(FLERR, "pair_style mlip: metadata key 'species' in {} must be a non-empty list",
               path);
  std::set<std::string> seen;
  for (const auto &s : spec) {
    if (!s.is_string())
      error->all(FLERR, "pair_style mlip: metadata 'species' in {} must hold element names", path);
    m.species.push_back(s.get<std::string>());
    if (!seen.insert(m.species.back()).second)
      error->all(FLERR, "pair_style mlip: species '{}' appears twice in the metadata of {}",
                 m.species.back(), path);
  }

  m.architecture = "unknown";
  if (meta.contains("architecture") && meta["architecture"].is_string())
    m.architecture = meta["architecture"].get<std::string>();

  // ---- forward() signature: (center_species, edge_center, edge_neighbor_species, edge_vectors)
  // and, for message passing, edge_neighbor (the centre that owns each neighbour)

  auto forward = m.module.find_method("forward");
  if (!forward)
    error->all(FLERR, "pair_style mlip: {} is not a valid TorchScript mlip model: no forward()",
               path);
  const size_t nargs = forward->function().getSchema().arguments().size();
  const size_t expected = m.message_passing ? 5 : 4;
  if (nargs != expected + 1)    // self + tensors
    error->all(FLERR,
               "pair_style mlip: {} is not a valid TorchScript mlip model: forward() takes {} "
               "arguments, the model contract needs {} for model_type '{}'",
               path, static_cast<int>(nargs) - 1, expected, model_type);

  // ---- optional committee: committee_size members behind committee()
  if (meta.contains("committee_size")) {
    if (!meta["committee_size"].is_number_integer() || meta["committee_size"].get<int64_t>() < 1)
      error->all(FLERR, "pair_style mlip: metadata key 'committee_size' in {} must be a positive "
                 "integer", path);
    m.committee_size = meta["committee_size"].get<int64_t>();
    if (m.committee_size > 1 && !m.module.find_method("committee"))
      error->all(FLERR, "pair_style mlip: {} declares committee_size {} but has no committee() "
                 "method", path, m.committee_size);
  }
  return m;
}

/* ----------------------------------------------------------------------
   load every model file, check that they form one model or one committee, pick the device
------------------------------------------------------------------------- */

void PairMLIP::load_models(const std::string &device_request)
{
  auto m = std::make_unique<Model>();
  std::vector<std::string> names;
  std::string dtype, arch;
  bool uses_ops = false;
  for (const auto &path : model_paths) {
    ModelFile f = read_model_file(path, error);
    if (m->modules.empty()) {
      names = f.species;
      cutoff = f.cutoff;
      dtype = f.dtype;
      arch = f.architecture;
      m->committee_size = f.committee_size;
      m->message_passing = f.message_passing;
    } else {
      // members must agree on what they take and return: species indices, cutoff, dtype
      if (f.species != names)
        error->all(FLERR, "pair_style mlip: committee member {} has species {}, {} has {}", path,
                   utils::join_words(f.species, " "), model_paths[0], utils::join_words(names, " "));
      if (f.cutoff != cutoff)
        error->all(FLERR, "pair_style mlip: committee member {} has cutoff {} A, {} has {} A", path,
                   f.cutoff, model_paths[0], cutoff);
      if (f.dtype != dtype)
        error->all(FLERR, "pair_style mlip: committee member {} is {}, {} is {}", path, f.dtype,
                   model_paths[0], dtype);
      if (f.message_passing != m->message_passing)
        error->all(FLERR, "pair_style mlip: committee member {} and {} differ in model_type", path,
                   model_paths[0]);
      if (f.committee_size > 1 || m->committee_size > 1)
        error->all(FLERR, "pair_style mlip: give either one committee model or several single "
                   "models, not a committee model among several files ({})", path);
    }
    uses_ops = uses_ops || f.uses_ops;
    m->num_layers = std::max(m->num_layers, f.num_layers);    // the widest reach of the members
    m->modules.push_back(std::move(f.module));
  }
  m->dtype = (dtype == "float64") ? torch::kFloat64 : torch::kFloat32;
  nmembers = (m->modules.size() > 1) ? static_cast<int>(m->modules.size())
                                     : static_cast<int>(m->committee_size);

  // ---- device: one GPU per MPI rank, chosen by the rank's index on its node ----

  const bool have_cuda = torch::cuda::is_available();
  if (device_request == "cuda" && !have_cuda)
    error->all(FLERR,
               "pair_style mlip device cuda: CUDA is not available (PyTorch was built without "
               "CUDA or no GPU is visible); use device cpu or auto");
  if (device_request == "cuda" || (device_request == "auto" && have_cuda)) {
    MPI_Comm node_comm;
    MPI_Comm_split_type(world, MPI_COMM_TYPE_SHARED, comm->me, MPI_INFO_NULL, &node_comm);
    int node_rank = 0;
    MPI_Comm_rank(node_comm, &node_rank);
    MPI_Comm_free(&node_comm);
    const int ngpu = static_cast<int>(torch::cuda::device_count());
    m->device = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(node_rank % ngpu));
  }

  std::string failure;
  try {
    for (auto &module : m->modules) {
      module.eval();
      if (!m->device.is_cpu()) module.to(m->device);
    }
  } catch (const std::exception &e) {
    failure = first_line(e.what());
  }
  if (!failure.empty())
    error->one(FLERR, "pair_style mlip: cannot move model {} to {}: {}", model_paths[0],
               m->device.str(), failure);
  m->inputs.reserve(5);

  model = std::move(m);
  species = std::move(names);
  cutoff_sq = cutoff * cutoff;

  if (comm->me == 0) {
    utils::logmesg(lmp,
                   "pair_style mlip: loaded {} (architecture {}, species {}, cutoff {} A, {}) "
                   "on {} with {} torch thread(s) per MPI rank\n",
                   utils::join_words(model_paths, " "), arch, utils::join_words(species, " "),
                   cutoff, dtype, model->device.str(), nthreads);
    if (nmembers > 1)
      utils::logmesg(lmp, "pair_style mlip: committee of {} members; forces are their mean\n",
                     nmembers);

    if (uses_ops)
      utils::logmesg(lmp, "pair_style mlip: model uses the mlip torch operators ({})\n",
                     mlip_ops_info());
  }
}

/* ----------------------------------------------------------------------
   pair_coeff * * El1 El2 ... ElN   (one element or NULL per atom type)
------------------------------------------------------------------------- */

void PairMLIP::coeff(int narg, char **arg)
{
  if (!allocated) allocate();

  const int ntypes = atom->ntypes;
  if (narg != 2 + ntypes)
    error->all(FLERR,
               "Incorrect number of args for pair_coeff mlip: expected * * followed by {} "
               "element name(s), one per atom type, got {}",
               ntypes, narg - 2);
  if (strcmp(arg[0], "*") != 0 || strcmp(arg[1], "*") != 0)
    error->all(FLERR, "Pair_coeff mlip must be 'pair_coeff * * El1 ... El{}', got '{} {}'",
               ntypes, arg[0], arg[1]);

  // the model sees species indices only, so any type order gives the same physics
  for (int t = 1; t <= ntypes; t++) {
    const std::string name = arg[1 + t];
    if (name == "NULL") {    // type left to another sub-style of pair hybrid
      type2species[t] = -1;
      continue;
    }
    int k = 0;
    while (k < (int) species.size() && species[k] != name) k++;
    if (k == (int) species.size())
      error->all(FLERR,
                 "Pair_coeff mlip: element '{}' (atom type {}) is not in the model's species: {}",
                 name, t, utils::join_words(species, " "));
    type2species[t] = k;
  }

  int count = 0;
  for (int i = 1; i <= ntypes; i++)
    for (int j = i; j <= ntypes; j++) {
      setflag[i][j] = (type2species[i] >= 0 && type2species[j] >= 0) ? 1 : 0;
      count += setflag[i][j];
    }
  if (count == 0) error->all(FLERR, "Pair_coeff mlip: all atom types are NULL");
}

/* ---------------------------------------------------------------------- */

void PairMLIP::init_style()
{
  // ghost atoms receive forces (F_j -= g); they must be summed back onto their owners
  if (force->newton_pair == 0) error->all(FLERR, "Pair style mlip requires newton pair on");
  if (strcmp(update->unit_style, "metal") != 0)
    error->all(FLERR, "Pair style mlip requires units metal (the model uses eV and Angstrom), not {}",
               update->unit_style);
  if (!model) error->all(FLERR, "Pair style mlip: no model loaded");

  // A message-passing model sees num_layers * cutoff far through its neighbours' features. On
  // one rank every ghost is an image of a local atom, so the model runs on the periodic graph of
  // the local atoms (edges point to the owners of the ghosts). On several ranks the ghosts within
  // num_layers * cutoff become graph nodes of their own (a ghost shell that deep, with neighbour
  // lists of the ghosts) and only the local atoms' energies are summed: exact, at the cost of
  // evaluating the shell on every rank.
  ghost_nodes = false;
  ghost_graph_logged = false;
  if (model->message_passing) {
    if (chunk_atoms > 0)
      error->all(FLERR, "Pair style mlip: chunk {} cannot be used with the message-passing model "
                 "{}: it needs every atom in one call", chunk_atoms, model_paths[0]);
    if (comm->nprocs > 1) {
      if (model->num_layers < 1)
        error->all(FLERR, "Pair style mlip: {} is a message-passing model without 'num_layers' in "
                   "its metadata, which {} MPI ranks need for the ghost shell; re-export it with "
                   "this mlip-lammps or run on 1 rank", model_paths[0], comm->nprocs);
      ghost_nodes = true;
      const double shell = model->num_layers * cutoff + neighbor->skin;
      if (comm->cutghostuser < shell) {
        comm->cutghostuser = shell;
        if (comm->me == 0)
          utils::logmesg(lmp, "pair_style mlip: message passing over {} layers on {} ranks: "
                         "ghost cutoff set to {} A (layers x cutoff + skin)\n",
                         model->num_layers, comm->nprocs, shell);
      }
    } else if (!atom->tag_enable) {
      error->all(FLERR, "Pair style mlip: a message-passing model needs atom IDs");
    }
  }

  // full list of local atoms; a local model needs no neighbours of ghosts, ghost nodes do
  neighbor->add_request(this, ghost_nodes ? NeighConst::REQ_FULL | NeighConst::REQ_GHOST
                                          : NeighConst::REQ_FULL);
}

/* ---------------------------------------------------------------------- */

double PairMLIP::init_one(int i, int j)
{
  if (setflag[i][j] == 0) error->all(FLERR, "All pair coeffs are not set");
  return cutoff;
}

/* ---------------------------------------------------------------------- */

void PairMLIP::compute(int eflag, int vflag)
{
  ev_init(eflag, vflag);

  // committee members' own outputs are needed on deviation steps only (fix pair trigger or
  // out_freq); other steps run the committee's mean (one call for a committee file)
  const bool deviation_step =
      nmembers > 1 && (deviation_flag || (out_freq > 0 && update->ntimestep % out_freq == 0));
  if (deviation_step) {
    const size_t nall = static_cast<size_t>(atom->nlocal) + atom->nghost;
    member_forces.assign(nall * nmembers * 3, 0.0);
    member_energy_sum.assign(nmembers, 0.0);
  }

  // The model is strictly local, so evaluating the local atoms in chunks gives the same numbers
  // (same summation order) while the per-edge buffers and the model's intermediates scale with
  // the chunk, not with the subdomain: memory per atom stays that of LAMMPS itself.
  const int inum = list->inum;
  const int chunk = chunk_atoms > 0 ? chunk_atoms : std::max(inum, 1);
  if (ghost_nodes)
    compute_ghost_nodes(deviation_step);
  else
    for (int first = 0; first < inum; first += chunk)
      compute_chunk(first, std::min(inum, first + chunk), deviation_step);

  if (deviation_step) finish_deviation();    // collective: also on ranks without atoms
}

/* ----------------------------------------------------------------------
   message passing on one rank: edge_owner[e] = centre index of the atom whose image (ghost or
   local) is the neighbour of edge e, found through the atom IDs
------------------------------------------------------------------------- */

void PairMLIP::edge_owners(int64_t n, int64_t nedges)
{
  const tagint *tag = atom->tag;
  tagint maxtag = 0;
  for (int64_t c = 0; c < n; c++) maxtag = std::max(maxtag, tag[center_atom[c]]);
  tag2center.assign(static_cast<size_t>(maxtag) + 1, -1);
  for (int64_t c = 0; c < n; c++) tag2center[tag[center_atom[c]]] = c;
  if (static_cast<int64_t>(edge_owner.size()) < nedges) edge_owner.resize(nedges);
  for (int64_t e = 0; e < nedges; e++) {
    const tagint t = tag[edge_atom[e]];
    const int64_t owner = (t >= 0 && t <= maxtag) ? tag2center[t] : -1;
    if (owner < 0)
      error->one(FLERR, "pair_style mlip: neighbour atom ID {} of a message-passing model is not "
                 "a local atom of this rank", t);
    edge_owner[e] = owner;
  }
}

/* ----------------------------------------------------------------------
   edges of atom i as centre (or node) c, appended from nedges on; returns the new edge count.
   The edge buffers must hold every listed pair of i.
------------------------------------------------------------------------- */

int64_t PairMLIP::add_edges(int64_t c, int i, int64_t nedges, double &rsq_min)
{
  const Vec3 *const xx = reinterpret_cast<const Vec3 *>(atom->x[0]);
  const int *type = atom->type;
  const int *t2s = type2species.data();
  int64_t *e_center = edge_center.data();
  int64_t *e_species = edge_neighbor_species.data();
  int *e_nbr = edge_atom.data();
  double *e_vec = edge_vectors.data();
  const double cutsq = cutoff_sq;

  const double xi = xx[i].x, yi = xx[i].y, zi = xx[i].z;
  const int *jlist = list->firstneigh[i];
  const int jnum = list->numneigh[i];
  for (int jj = 0; jj < jnum; jj++) {
    const int j = jlist[jj] & NEIGHMASK;
    const double dx = xx[j].x - xi;
    const double dy = xx[j].y - yi;
    const double dz = xx[j].z - zi;
    const int sj = t2s[type[j]];
    // Branch-free: every candidate is written, and kept only if inside the cutoff (the list
    // holds pairs up to cutoff + skin; pairs beyond the cutoff contribute zero) and not of a
    // NULL type. The buffers hold every listed pair, so the write is always in bounds.
    e_center[nedges] = c;
    e_species[nedges] = sj;
    e_nbr[nedges] = j;
    e_vec[3 * nedges] = dx;
    e_vec[3 * nedges + 1] = dy;
    e_vec[3 * nedges + 2] = dz;
    const double rsq = dx * dx + dy * dy + dz * dz;
    const bool keep = (rsq < cutsq) & (sj >= 0);
    rsq_min = (keep && rsq < rsq_min) ? rsq : rsq_min;
    nedges += keep;
  }
  return nedges;
}

/* ---------------------------------------------------------------------- */

// grow (never shrink) the per-step buffers to ncenters centres and max_edges edges
void PairMLIP::reserve_graph(int64_t ncenters, int64_t max_edges)
{
  if (static_cast<int64_t>(center_first.size()) < ncenters + 1) {
    center_atom.resize(ncenters);
    center_species.resize(ncenters);
    center_first.resize(ncenters + 1);
  }
  if (static_cast<int64_t>(edge_center.size()) < max_edges) {
    edge_center.resize(max_edges);
    edge_neighbor_species.resize(max_edges);
    edge_atom.resize(max_edges);
    edge_vectors.resize(3 * max_edges);
  }
}

/* ----------------------------------------------------------------------
   model energies, forces and virial of the local atoms ilist[first..last)
------------------------------------------------------------------------- */

void PairMLIP::compute_chunk(int first, int last, bool deviation_step)
{
  const int *type = atom->type;
  const int *ilist = list->ilist;
  const int *numneigh = list->numneigh;

  // ---- graph of the chunk's atoms, edges grouped by centre (the fused kernels use that).
  // The buffers only grow (sized for every listed pair), so steady-state steps do not allocate.

  int64_t max_edges = 0;
  for (int ii = first; ii < last; ii++) max_edges += numneigh[ilist[ii]];
  reserve_graph(last - first, max_edges);

  int64_t n = 0, nedges = 0;
  double rsq_min = cutoff_sq;
  for (int ii = first; ii < last; ii++) {
    const int i = ilist[ii];
    const int si = type2species[type[i]];
    if (si < 0) continue;    // NULL type (pair hybrid)
    center_atom[n] = i;
    center_species[n] = si;
    center_first[n] = nedges;
    nedges = add_edges(n++, i, nedges, rsq_min);
  }
  center_first[n] = nedges;
  if (rsq_min < min_dist * min_dist) too_close(nedges, rsq_min);
  if (n == 0) return;    // only NULL-type atoms

  if (model->message_passing) edge_owners(n, nedges);
  evaluate(n, n, nedges, deviation_step);
}

/* ----------------------------------------------------------------------
   message passing on several ranks: the graph of the local atoms (nodes 0..n-1, whose energies
   count) and of every atom up to num_layers edges away from them (ghost nodes, numbered by
   their hop count). A local energy depends on the node features of hop <= num_layers and on the
   edges of nodes with hop < num_layers only, so the graph stops there: exact, and no larger
   than needed. The ghost shell is num_layers * cutoff + skin deep (init_style), so every node
   of hop < num_layers has its complete (ghost) neighbour list.
------------------------------------------------------------------------- */

void PairMLIP::compute_ghost_nodes(bool deviation_step)
{
  const int *type = atom->type;
  const int *numneigh = list->numneigh;
  const int nall = atom->nlocal + atom->nghost;

  atom_node.assign(nall, -1);
  reserve_graph(nall, 0);
  int64_t n = 0;
  auto add_node = [&](int i, int64_t species) {
    atom_node[i] = n;
    center_atom[n] = i;
    center_species[n++] = species;
  };
  for (int ii = 0; ii < list->inum; ii++) {
    const int i = list->ilist[ii];
    if (type2species[type[i]] >= 0) add_node(i, type2species[type[i]]);    // skip NULL types
  }
  const int64_t ncenters = n;

  // breadth-first over the edges, one hop per layer: the edges of the nodes [level, level_end)
  // of hop h < num_layers find the nodes of hop h + 1; nodes of hop num_layers carry no edges
  int64_t nedges = 0, level = 0;
  double rsq_min = cutoff_sq;
  for (int hop = 0; hop < model->num_layers; hop++) {
    const int64_t level_end = n;
    for (int64_t c = level; c < level_end; c++) {
      const int i = center_atom[c];
      reserve_graph(nall, nedges + numneigh[i]);
      center_first[c] = nedges;
      const int64_t first = nedges;
      nedges = add_edges(c, i, nedges, rsq_min);
      for (int64_t e = first; e < nedges; e++)
        if (atom_node[edge_atom[e]] < 0) add_node(edge_atom[e], edge_neighbor_species[e]);
    }
    level = level_end;
  }
  const int64_t nsrc = level;
  center_first[nsrc] = nedges;
  if (rsq_min < min_dist * min_dist) too_close(nedges, rsq_min);
  // the shell, not the local atoms, sets the cost and memory of a step: say how large it is
  if (comm->me == 0 && !ghost_graph_logged) {
    ghost_graph_logged = true;
    utils::logmesg(lmp, "pair_style mlip: rank 0 graph: {} local atoms, {} nodes, {} edges\n",
                   ncenters, n, nedges);
  }
  if (ncenters == 0) return;

  // every neighbour became a node above
  if (static_cast<int64_t>(edge_owner.size()) < nedges) edge_owner.resize(nedges);
  for (int64_t e = 0; e < nedges; e++) edge_owner[e] = atom_node[edge_atom[e]];
  evaluate(ncenters, nsrc, nedges, deviation_step);
}

/* ----------------------------------------------------------------------
   run the model on the graph in the buffers: centres 0..n-1 (energies), nodes 0..nsrc-1 own
   the nedges edges (nsrc = n for local models); adds energies, forces and virial
------------------------------------------------------------------------- */

void PairMLIP::evaluate(int64_t n, int64_t nsrc, int64_t nedges, bool deviation_step)
{
  double **f = atom->f;
  int *c_atom = center_atom.data();
  int64_t *c_species = center_species.data();
  int64_t *c_first = center_first.data();
  int64_t *e_center = edge_center.data();
  int64_t *e_species = edge_neighbor_species.data();
  int *e_nbr = edge_atom.data();
  double *e_vec = edge_vectors.data();

  const bool per_member = deviation_step || model->modules.size() > 1;

  // ---- wrap the buffers as tensors (no copy on the CPU) and run the model(s).
  // Only torch calls sit inside the try block: LAMMPS errors are exceptions in library mode
  // and must not be caught here.

  std::vector<c10::IValue> results;
  std::string failure;
  try {
    const auto i64 = torch::TensorOptions().dtype(torch::kInt64);
    torch::Tensor t_center_species = torch::from_blob(c_species, {n}, i64);
    torch::Tensor t_edge_center = torch::from_blob(e_center, {nedges}, i64);
    torch::Tensor t_edge_species = torch::from_blob(e_species, {nedges}, i64);
    torch::Tensor t_edge_vectors;
    if (model->dtype == torch::kFloat64) {
      t_edge_vectors = torch::from_blob(e_vec, {nedges, 3},
                                        torch::TensorOptions().dtype(torch::kFloat64));
    } else {
      if (static_cast<int64_t>(edge_vectors_f32.size()) < 3 * nedges)
        edge_vectors_f32.resize(3 * nedges);
      for (int64_t k = 0; k < 3 * nedges; k++) edge_vectors_f32[k] = static_cast<float>(e_vec[k]);
      t_edge_vectors = torch::from_blob(edge_vectors_f32.data(), {nedges, 3},
                                        torch::TensorOptions().dtype(torch::kFloat32));
    }

    auto &inputs = model->inputs;
    inputs.clear();
    inputs.emplace_back(t_center_species.to(model->device));
    inputs.emplace_back(t_edge_center.to(model->device));
    inputs.emplace_back(t_edge_species.to(model->device));
    inputs.emplace_back(t_edge_vectors.to(model->device));
    if (model->message_passing)
      inputs.emplace_back(torch::from_blob(edge_owner.data(), {nedges}, i64).to(model->device));
    if (model->modules.size() == 1 && deviation_step)
      results.push_back(model->modules[0].get_method("committee")(inputs));
    else
      for (auto &module : model->modules) results.push_back(module.forward(inputs));
    inputs.clear();    // drop references to the buffers
  } catch (const c10::Error &e) {
    failure = first_line(e.what_without_backtrace());
  } catch (const std::exception &e) {
    failure = first_line(e.what());
  }
  if (!failure.empty()) error->one(FLERR, "pair_style mlip: model evaluation failed: {}", failure);

  // (atom_energy, edge_grad) per call: shapes (n), (E, 3) from forward(), (M, n), (M, E, 3) from
  // committee()
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> energies, grads;
  for (const auto &result : results) {
    if (!result.isTuple() || result.toTupleRef().elements().size() != 2 ||
        !result.toTupleRef().elements()[0].isTensor() ||
        !result.toTupleRef().elements()[1].isTensor())
      error->one(FLERR, "pair_style mlip: model must return (atom_energy, edge_grad)");
    torch::Tensor energy = result.toTupleRef().elements()[0].toTensor();
    torch::Tensor grad = result.toTupleRef().elements()[1].toTensor();
    if (results.size() == 1 && deviation_step) {
      if (energy.dim() != 2 || energy.size(0) != nmembers || energy.size(1) != n)
        error->one(FLERR, "pair_style mlip: committee() returned atom_energy of shape {}, "
                   "expected [{}, {}]", shape_str(energy), nmembers, n);
      if (grad.dim() != 3 || grad.size(0) != nmembers || grad.size(1) != nedges ||
          grad.size(2) != 3)
        error->one(FLERR, "pair_style mlip: committee() returned edge_grad of shape {}, "
                   "expected [{}, {}, 3]", shape_str(grad), nmembers, nedges);
    } else {
      if (energy.dim() != 1 || energy.size(0) != n)
        error->one(FLERR, "pair_style mlip: model returned atom_energy of shape {}, expected [{}]",
                   shape_str(energy), n);
      if (grad.dim() != 2 || grad.size(0) != nedges || grad.size(1) != 3)
        error->one(FLERR, "pair_style mlip: model returned edge_grad of shape {}, expected [{}, 3]",
                   shape_str(grad), nedges);
    }
    energies.push_back(energy);
    grads.push_back(grad);
  }

  // accumulate in double whatever the model dtype. One model: no copy for float64 on the CPU,
  // float32 gradients are converted into a buffer reused between steps. Committee members:
  // (M, n) and (M, E, 3) in double, and their mean.
  torch::Tensor energy, grad, member_energy, member_grad;
  if (per_member) {
    member_energy = (energies.size() == 1 ? energies[0] : torch::stack(energies))
                        .to(torch::kCPU, torch::kFloat64).contiguous();
    member_grad = (grads.size() == 1 ? grads[0] : torch::stack(grads))
                      .to(torch::kCPU, torch::kFloat64).contiguous();
    energy = member_energy.mean(0);
    grad = member_grad.mean(0);
  } else {
    energy = energies[0].to(torch::kCPU, torch::kFloat64).contiguous();
    grad = grads[0];
  }
  const double *g = nullptr;
  if (grad.device().is_cpu() && grad.scalar_type() == torch::kFloat64) {
    grad = grad.contiguous();
    g = grad.data_ptr<double>();
  } else {
    if (static_cast<int64_t>(grad_f64.size()) < 3 * nedges) grad_f64.resize(3 * nedges);
    torch::from_blob(grad_f64.data(), {nedges, 3}, torch::TensorOptions().dtype(torch::kFloat64))
        .copy_(grad);
    g = grad_f64.data();
  }

  const double *e_atom = energy.data_ptr<double>();

  // ---- a NaN or inf anywhere makes these sums non-finite: check before touching forces
  // (the gradient sum uses 8 partial sums so that it vectorises)

  double esum = 0.0, gsum = 0.0;
  for (int64_t c = 0; c < n; c++) esum += e_atom[c];
  {
    double part[8] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
    const int64_t ng = 3 * nedges, nv = ng / 8 * 8;
    for (int64_t k = 0; k < nv; k += 8)
      for (int l = 0; l < 8; l++) part[l] += g[k + l];
    for (int64_t k = nv; k < ng; k++) gsum += g[k];
    for (int l = 0; l < 8; l++) gsum += part[l];
  }
  if (!std::isfinite(esum) || !std::isfinite(gsum))
    error->one(FLERR,
               "pair_style mlip: model returned non-finite energy or forces on rank {} "
               "({} atoms, {} edges, step {}); atoms may be closer than the model can handle",
               comm->me, n, nedges, update->ntimestep);

  if (eflag_global) eng_vdwl += esum;
  if (eflag_atom)
    for (int64_t c = 0; c < n; c++) eatom[c_atom[c]] += e_atom[c];

  // ---- forces F_i += g, F_j -= g and virial W -= r (x) g (LAMMPS order xx yy zz xy xz yz);
  // edges are grouped by centre, so F_i is summed in registers

  Vec3 *const ff = reinterpret_cast<Vec3 *>(f[0]);
  double v[6] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
  for (int64_t c = 0; c < nsrc; c++) {
    const int i = c_atom[c];
    double fx = 0.0, fy = 0.0, fz = 0.0;
    for (int64_t e = c_first[c]; e < c_first[c + 1]; e++) {
      const int j = e_nbr[e];
      const double gx = g[3 * e], gy = g[3 * e + 1], gz = g[3 * e + 2];
      fx += gx;
      fy += gy;
      fz += gz;
      ff[j].x -= gx;
      ff[j].y -= gy;
      ff[j].z -= gz;

      if (vflag_either) {
        const double dx = e_vec[3 * e], dy = e_vec[3 * e + 1], dz = e_vec[3 * e + 2];
        const double w[6] = {-dx * gx, -dy * gy, -dz * gz, -dx * gy, -dx * gz, -dy * gz};
        if (vflag_global)
          for (int k = 0; k < 6; k++) v[k] += w[k];
        if (vflag_atom)
          for (int k = 0; k < 6; k++) {
            vatom[i][k] += 0.5 * w[k];
            vatom[j][k] += 0.5 * w[k];
          }
      }
    }
    ff[i].x += fx;
    ff[i].y += fy;
    ff[i].z += fz;
  }
  if (vflag_global)
    for (int k = 0; k < 6; k++) virial[k] += v[k];

  if (deviation_step)
    add_member_forces(n, nsrc, nedges, member_grad.data_ptr<double>(),
                      member_energy.data_ptr<double>());
}

/* ----------------------------------------------------------------------
   committee members' forces of one chunk (on local and ghost atoms) and total energies
------------------------------------------------------------------------- */

void PairMLIP::add_member_forces(int64_t n, int64_t nsrc, int64_t nedges,
                                 const double *member_grad, const double *member_energy)
{
  const int M = nmembers;
  double *fm = member_forces.data();
  const int *c_atom = center_atom.data();
  const int64_t *c_first = center_first.data();
  const int *e_nbr = edge_atom.data();
  for (int64_t c = 0; c < nsrc; c++) {
    const size_t i = c_atom[c];
    for (int64_t e = c_first[c]; e < c_first[c + 1]; e++) {
      const size_t j = e_nbr[e];
      for (int m = 0; m < M; m++) {
        const double *gm = member_grad + 3 * (m * nedges + e);
        for (int k = 0; k < 3; k++) {
          fm[(i * M + m) * 3 + k] += gm[k];
          fm[(j * M + m) * 3 + k] -= gm[k];
        }
      }
    }
  }
  for (int m = 0; m < M; m++)
    for (int64_t c = 0; c < n; c++) member_energy_sum[m] += member_energy[m * n + c];
}

/* ----------------------------------------------------------------------
   committee force deviation of every local atom: per-member forces (ghost contributions
   folded back by reverse communication), sqrt(<|F_m - <F>|^2>_m); global max/min/mean and the
   energy deviation go to compute pair (pvector) and, every out_freq steps, to out_file
------------------------------------------------------------------------- */

void PairMLIP::finish_deviation()
{
  const int M = nmembers;
  const int nlocal = atom->nlocal;
  comm->reverse_comm(this);
  const double *fm = member_forces.data();

  if (force_deviation.size() < static_cast<size_t>(atom->nmax)) force_deviation.resize(atom->nmax);
  const int *type = atom->type;
  double local[3] = {0.0, 0.0, 0.0};    // max, sum, count
  double dmin = std::numeric_limits<double>::infinity();
  for (int i = 0; i < nlocal; i++) {
    force_deviation[i] = 0.0;
    if (type2species[type[i]] < 0) continue;    // NULL type: not this style's atom
    const double *fi = fm + static_cast<size_t>(i) * M * 3;
    double mean[3] = {0.0, 0.0, 0.0};
    for (int m = 0; m < M; m++)
      for (int k = 0; k < 3; k++) mean[k] += fi[3 * m + k] / M;
    double var = 0.0;
    for (int m = 0; m < M; m++)
      for (int k = 0; k < 3; k++) var += (fi[3 * m + k] - mean[k]) * (fi[3 * m + k] - mean[k]);
    const double dev = std::sqrt(var / M);
    force_deviation[i] = dev;
    local[0] = std::max(local[0], dev);
    local[1] += dev;
    local[2] += 1.0;
    dmin = std::min(dmin, dev);
  }

  // members' total energies (eV), for the energy deviation per atom
  std::vector<double> esum_all(M);
  double dmax_all, dmin_all, sums[2] = {local[1], local[2]}, sums_all[2];
  MPI_Allreduce(&local[0], &dmax_all, 1, MPI_DOUBLE, MPI_MAX, world);
  MPI_Allreduce(&dmin, &dmin_all, 1, MPI_DOUBLE, MPI_MIN, world);
  MPI_Allreduce(sums, sums_all, 2, MPI_DOUBLE, MPI_SUM, world);
  MPI_Allreduce(member_energy_sum.data(), esum_all.data(), M, MPI_DOUBLE, MPI_SUM, world);
  const double natoms = std::max(sums_all[1], 1.0);
  double emean = 0.0, evar = 0.0;
  for (int m = 0; m < M; m++) emean += esum_all[m] / M;
  for (int m = 0; m < M; m++) evar += (esum_all[m] - emean) * (esum_all[m] - emean) / M;

  const double stats[4] = {dmax_all, sums_all[1] > 0 ? dmin_all : 0.0, sums_all[0] / natoms,
                            std::sqrt(evar) / natoms};
  // compute pair sums pvector over ranks: the global values live on rank 0 only
  extra_values.assign(4, 0.0);
  if (comm->me == 0) extra_values.assign(stats, stats + 4);
  pvector = extra_values.data();

  const bigint step = update->ntimestep;
  if (out_freq > 0 && step % out_freq == 0 && step != last_out_step) {
    last_out_step = step;
    if (out_fp) {
      utils::print(out_fp, "  {:>10} {:>14.6e} {:>14.6e} {:>14.6e} {:>14.6e}\n", step,
                 stats[0], stats[1], stats[2], stats[3]);
      fflush(out_fp);
    }
  }
}

/* ---------------------------------------------------------------------- */

int PairMLIP::pack_reverse_comm(int n, int first, double *buf)
{
  const int stride = 3 * nmembers;
  const double *fm = member_forces.data();
  int m = 0;
  for (int i = first; i < first + n; i++)
    for (int k = 0; k < stride; k++) buf[m++] = fm[static_cast<size_t>(i) * stride + k];
  return m;
}

/* ---------------------------------------------------------------------- */

void PairMLIP::unpack_reverse_comm(int n, int *list, double *buf)
{
  const int stride = 3 * nmembers;
  double *fm = member_forces.data();
  int m = 0;
  for (int i = 0; i < n; i++)
    for (int k = 0; k < stride; k++) fm[static_cast<size_t>(list[i]) * stride + k] += buf[m++];
}

/* ----------------------------------------------------------------------
   fix pair access: "force_deviation" (per atom, eV/A) and its trigger "force_deviation_flag"
------------------------------------------------------------------------- */

void *PairMLIP::extract(const char *str, int &dim)
{
  dim = 0;
  if (strcmp(str, "force_deviation_flag") == 0) return &deviation_flag;
  return nullptr;
}

void *PairMLIP::extract_peratom(const char *str, int &ncol)
{
  if (strcmp(str, "force_deviation") != 0) return nullptr;
  if (nmembers < 2)
    error->all(FLERR, "pair_style mlip: force_deviation needs a committee (several model files "
               "or one committee model); {} has one member", model_paths[0]);
  ncol = 0;
  if (force_deviation.size() < static_cast<size_t>(atom->nmax))
    force_deviation.resize(atom->nmax, 0.0);
  return force_deviation.data();
}

/* ----------------------------------------------------------------------
   two atoms closer than min_dist: name them (a model has no data there, and its forces
   would be meaningless or non-finite)
------------------------------------------------------------------------- */

void PairMLIP::too_close(int64_t nedges, double rsq_min)
{
  const tagint *tag = atom->tag;
  int64_t c = 0;
  for (int64_t e = 0; e < nedges; e++) {
    while (center_first[c + 1] <= e) c++;
    const double *r = &edge_vectors[3 * e];
    if (r[0] * r[0] + r[1] * r[1] + r[2] * r[2] == rsq_min)
      error->one(FLERR,
                 "pair_style mlip: atoms {} and {} are {:.4f} A apart at step {}, closer than "
                 "min_dist {} A (lost atoms or a bad structure; change min_dist to allow it)",
                 tag[center_atom[c]], tag[edge_atom[e]], std::sqrt(rsq_min), update->ntimestep,
                 min_dist);
  }
  error->one(FLERR, "pair_style mlip: atoms closer than min_dist {} A at step {}", min_dist,
             update->ntimestep);
}
