/* torch custom operators for the fused NEP kernels (library libmlip_ops.so, namespace "mlip"):

     mlip::nep_descriptors(center_species, edge_center, edge_neighbor_species, edge_vectors,
                           c_radial, c_angular, lm_weight, ylm_parent, ylm_axis, ylm_coef,
                           cutoff, cutoff_angular, l_max) -> (q, A)
     mlip::nep_edge_grad(<the same arguments>, A, dE_dq) -> edge_grad
     mlip::nep_edge_grad_bond(<the same arguments>, A, dE_dq, bond?) -> (edge_grad, dE_dbond)
     mlip::screening_bond(center_species, edge_center, edge_neighbor_species, edge_vectors,
                          table, knot, scale, c_upper, ellipse, outer, taper) -> bond
     mlip::screening_grad(<the same arguments>, dE_dbond) -> edge_grad contribution
     mlip::species_mlp(x, species, weights, biases, n_nets) -> (y, dy_dx)
     mlip::eq_features(center_species, edge_center, edge_neighbor_species, edge_vectors, table,
                       step, cutoff, embedding, mixing, gaunt_index, gaunt_coef, ylm_parent,
                       ylm_axis, ylm_coef, l_max, correlation) -> (B, A)
     mlip::eq_edge_grad(<the same arguments>, A, dE_dB) -> edge_grad
     mlip::ops_info() -> str

   ylm_parent, ylm_axis, ylm_coef are the buffers of the model's SphericalHarmonics (Y_lm as
   monomials @ coef); the kernels use the model's coefficient values (see gen_ylm.py).
   species_mlp evaluates SpeciesMLP (per species: Linear, tanh, ..., Linear to one output;
   weights/biases listed net by net, layer by layer) and its gradient with respect to x, without
   BLAS: in a LAMMPS process torch's dgemm_ calls can bind to liblammps' reference BLAS.
   q (n, n_radial + n_angular l_max) are the raw descriptors of NEPModel.descriptors; A
   (n, n_angular, l_max (l_max + 2)) the angular sums A_nlm, which nep_edge_grad needs with
   dE_dq (n, D) to return dE/d edge_vectors (E, 3). Inference only (no autograd formulas).
   CPU, float32/float64. With the optional per-edge weights ``bond`` (nep_descriptors) every
   basis function of edge e is multiplied by bond[e]; screening_bond computes them (S_eff of
   models/screening.py, table = Screening.table()) and screening_grad turns dE/dbond into
   dE/d edge_vectors.

   Edges may come in any order; edges grouped by centre (as LAMMPS builds them) avoid a
   counting sort. Python loads this library with torch.ops.load_library
   (mlip_lammps/ops.py); the LAMMPS plugin links it, so the ops exist before torch::jit::load.
*/

#include "mlip_ops.h"
#include "nep_kernel.h"

#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <algorithm>
#include <cmath>
#include <array>
#include <mutex>
#include <utility>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

namespace mlip_ops {

namespace {

bool use_avx2()
{
#ifdef MLIP_OPS_HAVE_AVX2
  static const bool ok = [] {
    const char *isa = std::getenv("MLIP_OPS_ISA");    // "base" forces the portable kernels
    if (isa && std::strcmp(isa, "base") == 0) return false;
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }();
  return ok;
#else
  return false;
#endif
}

// Large outputs (A, edge_grad, q, ...) are allocated on every call, i.e. every MD step; fresh
// (mmap-ed) memory costs a page fault per 4 KiB, about 10% of a step. Freed output blocks are
// kept here and reused (at most POOL_BLOCKS blocks / POOL_BYTES bytes are kept).
class BlockPool {
 public:
  static constexpr size_t POOL_BLOCKS = 16;
  static constexpr size_t POOL_BYTES = size_t(4) << 30;
  void *get(size_t bytes, size_t &got)
  {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      size_t best = blocks_.size();
      for (size_t k = 0; k < blocks_.size(); k++)
        if (blocks_[k].first >= bytes && blocks_[k].first <= 2 * bytes &&
            (best == blocks_.size() || blocks_[k].first < blocks_[best].first))
          best = k;
      if (best < blocks_.size()) {
        got = blocks_[best].first;
        void *p = blocks_[best].second;
        held_ -= got;
        blocks_.erase(blocks_.begin() + static_cast<std::ptrdiff_t>(best));
        return p;
      }
    }
    got = (bytes + 4095) / 4096 * 4096;
    void *p = std::aligned_alloc(64, got);
    TORCH_CHECK(p != nullptr, "mlip ops: out of memory allocating ", got, " bytes");
    return p;
  }
  void put(void *p, size_t bytes)
  {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (blocks_.size() < POOL_BLOCKS && held_ + bytes <= POOL_BYTES) {
        blocks_.emplace_back(bytes, p);
        held_ += bytes;
        return;
      }
    }
    std::free(p);
  }

 private:
  std::mutex mutex_;
  std::vector<std::pair<size_t, void *>> blocks_;
  size_t held_ = 0;
};

BlockPool &pool()
{
  static BlockPool *p = new BlockPool;    // never destroyed: tensors may outlive static destructors
  return *p;
}

at::Tensor pooled_empty(at::IntArrayRef sizes, const at::TensorOptions &options)
{
  int64_t numel = 1;
  for (const int64_t d : sizes) numel *= d;
  const size_t bytes = static_cast<size_t>(numel) * options.dtype().itemsize();
  if (bytes < (size_t(1) << 20)) return at::empty(sizes, options);
  size_t got = 0;
  void *p = pool().get(bytes, got);
  return at::from_blob(p, sizes, [got](void *q) { pool().put(q, got); }, options);
}

// checked, contiguous inputs and the edge grouping (CSR) by centre
struct Graph {
  at::Tensor center_species, edge_center, edge_species, vectors;
  at::Tensor offsets;    // (n + 1) int64
  at::Tensor perm;       // (E) int64, undefined when edges are already grouped by centre
  int64_t n = 0, nedges = 0, max_edges = 0;
};

struct Prepared : Graph {
  at::Tensor c_radial, c_angular, lm_weight;
  at::Tensor ylm_coef;    // (YLM_TERMS) coefficients of the Y_lm terms (nep_ylm_terms.h)
  int S = 0, nr = 0, nbr = 0, na = 0, nba = 0, L = 0;
  double cutoff = 0.0, cutoff_angular = 0.0;
};

// The model evaluates Y_lm as monomials @ coef (SphericalHarmonics in spherical.py): monomial 0
// is 1, monomials 1..3 are x, y, z, and monomial k >= 4 is monomial parent[k-1] times
// component axis[k-1]. Returns coef at the (monomial, lm) of every term of nep_ylm_terms.h
// (float64), after checking that coef has no other non-zero entry.
at::Tensor ylm_term_coefficients(const at::Tensor &parent_t, const at::Tensor &axis_t,
                                 const at::Tensor &coef_t, int64_t l_max)
{
  const int64_t nlm = l_max * (l_max + 2);
  TORCH_CHECK(parent_t.dim() == 1 && axis_t.dim() == 1 && parent_t.size(0) == axis_t.size(0),
              "mlip ops: ylm_parent and ylm_axis must be 1-D of equal length");
  const int64_t nmono = parent_t.size(0) + 1;
  TORCH_CHECK(coef_t.dim() == 2 && coef_t.size(0) == nmono && coef_t.size(1) == nlm,
              "mlip ops: ylm_coef must have shape [", nmono, ", ", nlm, "], got ", coef_t.sizes());
  const at::Tensor parent = parent_t.to(at::kCPU, at::kLong).contiguous();
  const at::Tensor axis = axis_t.to(at::kCPU, at::kLong).contiguous();
  const at::Tensor coef = coef_t.detach().to(at::kCPU, at::kDouble).contiguous();
  const int64_t *par = parent.data_ptr<int64_t>();
  const int64_t *ax = axis.data_ptr<int64_t>();
  std::vector<std::array<int, 3>> pw(nmono, {0, 0, 0});
  for (int64_t k = 1; k < nmono; k++) {
    TORCH_CHECK(par[k - 1] >= 0 && par[k - 1] < k && ax[k - 1] >= 0 && ax[k - 1] < 3,
                "mlip ops: invalid ylm_parent/ylm_axis");
    pw[k] = pw[par[k - 1]];
    pw[k][ax[k - 1]]++;
  }
  const double *c = coef.data_ptr<double>();
  std::vector<char> used(nmono * nlm, 0);
  at::Tensor out = at::zeros({YLM_TERMS}, at::kDouble);
  double *o = out.data_ptr<double>();
  for (int t = 0; t < YLM_TERMS; t++) {
    const int lm = YLM_TERM_LM[t];
    if (lm >= nlm) continue;    // l > l_max
    int64_t k = 0;
    while (k < nmono && !(pw[k][0] == YLM_TERM_POW[t][0] && pw[k][1] == YLM_TERM_POW[t][1] &&
                          pw[k][2] == YLM_TERM_POW[t][2]))
      k++;
    TORCH_CHECK(k < nmono, "mlip ops: the model's Y_lm monomials lack x^", YLM_TERM_POW[t][0],
                " y^", YLM_TERM_POW[t][1], " z^", YLM_TERM_POW[t][2]);
    o[t] = c[k * nlm + lm];
    used[k * nlm + lm] = 1;
  }
  for (int64_t i = 0; i < nmono * nlm; i++)
    TORCH_CHECK(used[i] || c[i] == 0.0,
                "mlip ops: the model's Y_lm coefficients are not the real spherical harmonics "
                "the fused kernels implement (unexpected term at monomial ", i / nlm, ", lm ",
                i % nlm, ")");
  return out;
}

at::Tensor index_tensor(const at::Tensor &t, const char *name)
{
  TORCH_CHECK(t.dim() == 1, "mlip ops: ", name, " must be 1-D, got ", t.dim(), "-D");
  TORCH_CHECK(t.device().is_cpu(), "mlip ops: ", name, " must be on the CPU");
  TORCH_CHECK(t.scalar_type() == at::kLong, "mlip ops: ", name, " must be int64, got ",
              t.scalar_type());
  return t.contiguous();
}

// checked, contiguous graph tensors (species in [0, S)) and the edge grouping (CSR) by centre:
// a stable counting sort (perm) when the edges are not grouped by centre
Graph prepare_graph(const at::Tensor &center_species, const at::Tensor &edge_center,
                    const at::Tensor &edge_neighbor_species, const at::Tensor &edge_vectors, int64_t S)
{
  Graph p;
  TORCH_CHECK(edge_vectors.dim() == 2 && edge_vectors.size(1) == 3,
              "mlip ops: edge_vectors must have shape [E, 3], got ", edge_vectors.sizes());
  TORCH_CHECK(edge_vectors.device().is_cpu(), "mlip ops: edge_vectors must be on the CPU");
  const auto dtype = edge_vectors.scalar_type();
  TORCH_CHECK(dtype == at::kDouble || dtype == at::kFloat,
              "mlip ops: edge_vectors must be float32 or float64, got ", dtype);
  p.center_species = index_tensor(center_species, "center_species");
  p.edge_center = index_tensor(edge_center, "edge_center");
  p.edge_species = index_tensor(edge_neighbor_species, "edge_neighbor_species");
  p.vectors = edge_vectors.contiguous();
  p.n = p.center_species.size(0);
  p.nedges = p.vectors.size(0);
  TORCH_CHECK(p.edge_center.size(0) == p.nedges && p.edge_species.size(0) == p.nedges,
              "mlip ops: edge_center (", p.edge_center.size(0), "), edge_neighbor_species (",
              p.edge_species.size(0), ") and edge_vectors (", p.nedges,
              ") must have the same length");

  // species ranges
  const int64_t *cs = p.center_species.data_ptr<int64_t>();
  for (int64_t i = 0; i < p.n; i++)
    TORCH_CHECK(cs[i] >= 0 && cs[i] < S, "mlip ops: center_species[", i, "] = ", cs[i],
                " is outside [0, ", S, ")");
  const int64_t *es = p.edge_species.data_ptr<int64_t>();
  const int64_t *ec = p.edge_center.data_ptr<int64_t>();
  bool bad = false, sorted = true;
  for (int64_t e = 0; e < p.nedges; e++) {
    bad |= (es[e] < 0) | (es[e] >= S) | (ec[e] < 0) | (ec[e] >= p.n);
    if (e > 0) sorted &= ec[e] >= ec[e - 1];
  }
  if (bad) {
    for (int64_t e = 0; e < p.nedges; e++) {
      TORCH_CHECK(es[e] >= 0 && es[e] < S, "mlip ops: edge_neighbor_species[", e, "] = ", es[e],
                  " is outside [0, ", S, ")");
      TORCH_CHECK(ec[e] >= 0 && ec[e] < p.n, "mlip ops: edge_center[", e, "] = ", ec[e],
                  " is outside [0, ", p.n, ")");
    }
  }

  p.offsets = at::empty({p.n + 1}, at::kLong);
  int64_t *off = p.offsets.data_ptr<int64_t>();
  if (sorted) {
    int64_t e = 0;
    for (int64_t c = 0; c <= p.n; c++) {
      while (e < p.nedges && ec[e] < c) e++;
      off[c] = e;
    }
  } else {
    std::memset(off, 0, sizeof(int64_t) * (p.n + 1));
    for (int64_t e = 0; e < p.nedges; e++) off[ec[e] + 1]++;
    for (int64_t c = 0; c < p.n; c++) off[c + 1] += off[c];
    p.perm = at::empty({p.nedges}, at::kLong);
    int64_t *perm = p.perm.data_ptr<int64_t>();
    std::vector<int64_t> pos(off, off + p.n);
    for (int64_t e = 0; e < p.nedges; e++) perm[pos[ec[e]]++] = e;
  }
  for (int64_t c = 0; c < p.n; c++)
    if (off[c + 1] - off[c] > p.max_edges) p.max_edges = off[c + 1] - off[c];
  return p;
}

Prepared prepare(const at::Tensor &center_species, const at::Tensor &edge_center,
                 const at::Tensor &edge_neighbor_species, const at::Tensor &edge_vectors,
                 const at::Tensor &c_radial, const at::Tensor &c_angular,
                 const at::Tensor &lm_weight, const at::Tensor &ylm_parent,
                 const at::Tensor &ylm_axis, const at::Tensor &ylm_coef, double cutoff,
                 double cutoff_angular, int64_t l_max)
{
  Prepared p;
  TORCH_CHECK(c_radial.dim() == 4 && c_angular.dim() == 4,
              "mlip ops: c_radial and c_angular must be 4-D [S, S, n, n_basis]");
  TORCH_CHECK(c_radial.size(0) == c_radial.size(1) && c_angular.size(0) == c_radial.size(0) &&
                  c_angular.size(1) == c_radial.size(0) && c_radial.size(0) > 0,
              "mlip ops: c_radial ", c_radial.sizes(), " and c_angular ", c_angular.sizes(),
              " must both start with [S, S]");
  TORCH_CHECK(c_radial.size(2) > 0 && c_radial.size(3) > 0 && c_angular.size(2) > 0 &&
                  c_angular.size(3) > 0,
              "mlip ops: empty coefficient tensors");
  static_cast<Graph &>(p) = prepare_graph(center_species, edge_center, edge_neighbor_species,
                                          edge_vectors, c_radial.size(0));
  const auto dtype = p.vectors.scalar_type();
  TORCH_CHECK(l_max >= 1 && l_max <= 4, "mlip ops: l_max must be 1..4, got ", l_max);
  TORCH_CHECK(cutoff > 0.0 && cutoff_angular > 0.0 && cutoff_angular <= cutoff,
              "mlip ops: need 0 < cutoff_angular <= cutoff, got ", cutoff_angular, " and ",
              cutoff);
  p.c_radial = c_radial.detach().to(at::kCPU, dtype).contiguous();
  p.c_angular = c_angular.detach().to(at::kCPU, dtype).contiguous();
  TORCH_CHECK(lm_weight.dim() == 1 && lm_weight.size(0) == l_max * (l_max + 2),
              "mlip ops: lm_weight must have shape [", l_max * (l_max + 2), "] for l_max ", l_max,
              ", got ", lm_weight.sizes());
  p.lm_weight = lm_weight.detach().to(at::kCPU, dtype).contiguous();
  p.ylm_coef = ylm_term_coefficients(ylm_parent, ylm_axis, ylm_coef, l_max).to(dtype);
  p.S = static_cast<int>(c_radial.size(0));
  p.nr = static_cast<int>(c_radial.size(2));
  p.nbr = static_cast<int>(c_radial.size(3));
  p.na = static_cast<int>(c_angular.size(2));
  p.nba = static_cast<int>(c_angular.size(3));
  p.L = static_cast<int>(l_max);
  p.cutoff = cutoff;
  p.cutoff_angular = cutoff_angular;
  return p;
}

// the graph fields every kernel's arguments share
template <typename Args> void set_graph(const Graph &p, Args &a)
{
  using T = std::remove_const_t<std::remove_pointer_t<decltype(a.edge_vectors)>>;
  a.center_species = p.center_species.data_ptr<int64_t>();
  a.edge_neighbor_species = p.edge_species.data_ptr<int64_t>();
  a.edge_vectors = p.vectors.data_ptr<T>();
  a.offsets = p.offsets.data_ptr<int64_t>();
  a.perm = p.perm.defined() ? p.perm.data_ptr<int64_t>() : nullptr;
  a.max_edges = p.max_edges;
}

template <typename T> NepArgs<T> make_args(const Prepared &p)
{
  NepArgs<T> a{};
  a.n_species = p.S;
  a.n_radial = p.nr;
  a.n_basis_radial = p.nbr;
  a.n_angular = p.na;
  a.n_basis_angular = p.nba;
  a.l_max = p.L;
  a.cutoff = static_cast<T>(p.cutoff);
  a.cutoff_angular = static_cast<T>(p.cutoff_angular);
  a.c_radial = p.c_radial.data_ptr<T>();
  a.c_angular = p.c_angular.data_ptr<T>();
  a.lm_weight = p.lm_weight.data_ptr<T>();
  a.ylm_coef = p.ylm_coef.data_ptr<T>();
  set_graph(p, a);
  return a;
}

// centres per parallel task: ~50 edges each, so a few thousand edges per task
constexpr int64_t GRAIN = 64;

// kernel(args, c0, c1, scratch) over all centres in parallel, each task with its own scratch of
// `scratch` elements (the same layout in every ISA variant)
template <typename T, typename Args, typename Kernel>
void run_parallel(int64_t n, int64_t scratch, const Args &args, Kernel kernel)
{
  at::parallel_for(0, n, GRAIN, [&](int64_t c0, int64_t c1) {
    std::vector<T> buf(scratch);
    kernel(args, c0, c1, buf.data());
  });
}

// the optional per-edge weights of the screened model (NepArgs::bond), in the edges' dtype
at::Tensor bond_weights(const c10::optional<at::Tensor> &bond, const Prepared &p)
{
  if (!bond.has_value() || !bond->defined()) return at::Tensor();
  TORCH_CHECK(bond->dim() == 1 && bond->size(0) == p.nedges, "mlip ops: bond must have shape [",
              p.nedges, "], got ", bond->sizes());
  return bond->detach().to(at::kCPU, p.vectors.scalar_type()).contiguous();
}

std::tuple<at::Tensor, at::Tensor> nep_descriptors(
    const at::Tensor &center_species, const at::Tensor &edge_center,
    const at::Tensor &edge_neighbor_species, const at::Tensor &edge_vectors,
    const at::Tensor &c_radial, const at::Tensor &c_angular, const at::Tensor &lm_weight,
    const at::Tensor &ylm_parent, const at::Tensor &ylm_axis, const at::Tensor &ylm_coef,
    double cutoff, double cutoff_angular, int64_t l_max, const c10::optional<at::Tensor> &bond)
{
  const Prepared p = prepare(center_species, edge_center, edge_neighbor_species, edge_vectors,
                             c_radial, c_angular, lm_weight, ylm_parent, ylm_axis, ylm_coef,
                             cutoff, cutoff_angular, l_max);
  const at::Tensor b = bond_weights(bond, p);
  const auto opts = p.vectors.options();
  at::Tensor q = pooled_empty({p.n, p.nr + p.na * p.L}, opts);
  at::Tensor A = pooled_empty({p.n, p.na, p.L * (p.L + 2)}, opts);
  AT_DISPATCH_FLOATING_TYPES(p.vectors.scalar_type(), "mlip::nep_descriptors", [&] {
    NepArgs<scalar_t> args = make_args<scalar_t>(p);
    args.bond = b.defined() ? b.data_ptr<scalar_t>() : nullptr;
    args.q = q.data_ptr<scalar_t>();
    args.A = A.data_ptr<scalar_t>();
    run_parallel<scalar_t>(p.n, base::scratch_size(args), args,
                           [](const NepArgs<scalar_t> &a, int64_t c0, int64_t c1, scalar_t *s) {
#ifdef MLIP_OPS_HAVE_AVX2
      if (use_avx2()) return avx2::descriptors(a, c0, c1, s);
#endif
      base::descriptors(a, c0, c1, s);
    });
  });
  return {q, A};
}

// dE/d edge_vectors and, with bond weights, dE/d bond (empty without)
std::tuple<at::Tensor, at::Tensor> nep_edge_grad_bond(
    const at::Tensor &center_species, const at::Tensor &edge_center,
    const at::Tensor &edge_neighbor_species, const at::Tensor &edge_vectors,
    const at::Tensor &c_radial, const at::Tensor &c_angular, const at::Tensor &lm_weight,
    const at::Tensor &ylm_parent, const at::Tensor &ylm_axis, const at::Tensor &ylm_coef,
    double cutoff, double cutoff_angular, int64_t l_max, const at::Tensor &A,
    const at::Tensor &dE_dq, const c10::optional<at::Tensor> &bond)
{
  const Prepared p = prepare(center_species, edge_center, edge_neighbor_species, edge_vectors,
                             c_radial, c_angular, lm_weight, ylm_parent, ylm_axis, ylm_coef,
                             cutoff, cutoff_angular, l_max);
  const int64_t D = p.nr + p.na * p.L, nlm = p.L * (p.L + 2);
  TORCH_CHECK(A.dim() == 3 && A.size(0) == p.n && A.size(1) == p.na && A.size(2) == nlm,
              "mlip::nep_edge_grad: A must have shape [", p.n, ", ", p.na, ", ", nlm, "], got ",
              A.sizes());
  TORCH_CHECK(dE_dq.dim() == 2 && dE_dq.size(0) == p.n && dE_dq.size(1) == D,
              "mlip::nep_edge_grad: dE_dq must have shape [", p.n, ", ", D, "], got ",
              dE_dq.sizes());
  const auto dtype = p.vectors.scalar_type();
  const at::Tensor Ac = A.detach().to(at::kCPU, dtype).contiguous();
  const at::Tensor G = dE_dq.detach().to(at::kCPU, dtype).contiguous();
  const at::Tensor b = bond_weights(bond, p);
  at::Tensor grad = pooled_empty({p.nedges, 3}, p.vectors.options());
  at::Tensor dbond = pooled_empty({b.defined() ? p.nedges : 0}, p.vectors.options());
  AT_DISPATCH_FLOATING_TYPES(dtype, "mlip::nep_edge_grad", [&] {
    NepArgs<scalar_t> args = make_args<scalar_t>(p);
    args.A = const_cast<scalar_t *>(Ac.data_ptr<scalar_t>());
    args.dE_dq = G.data_ptr<scalar_t>();
    args.edge_grad = grad.data_ptr<scalar_t>();
    args.bond = b.defined() ? b.data_ptr<scalar_t>() : nullptr;
    args.dE_dbond = b.defined() ? dbond.data_ptr<scalar_t>() : nullptr;
    run_parallel<scalar_t>(p.n, base::scratch_size(args), args,
                           [](const NepArgs<scalar_t> &a, int64_t c0, int64_t c1, scalar_t *s) {
#ifdef MLIP_OPS_HAVE_AVX2
      if (use_avx2()) return avx2::edge_grad(a, c0, c1, s);
#endif
      base::edge_grad(a, c0, c1, s);
    });
  });
  return {grad, dbond};
}

at::Tensor nep_edge_grad(const at::Tensor &center_species, const at::Tensor &edge_center,
                         const at::Tensor &edge_neighbor_species, const at::Tensor &edge_vectors,
                         const at::Tensor &c_radial, const at::Tensor &c_angular,
                         const at::Tensor &lm_weight, const at::Tensor &ylm_parent,
                         const at::Tensor &ylm_axis, const at::Tensor &ylm_coef, double cutoff,
                         double cutoff_angular, int64_t l_max, const at::Tensor &A,
                         const at::Tensor &dE_dq)
{
  return std::get<0>(nep_edge_grad_bond(center_species, edge_center, edge_neighbor_species,
                                        edge_vectors, c_radial, c_angular, lm_weight, ylm_parent,
                                        ylm_axis, ylm_coef, cutoff, cutoff_angular, l_max, A, dE_dq,
                                        c10::nullopt));
}

// ---- three-body screening (models/screening.py): S_eff of every edge and its backward

// checked inputs of the screening ops; runs the forward (bond) or backward (grad) pass
at::Tensor screening_run(const at::Tensor &center_species, const at::Tensor &edge_center,
                         const at::Tensor &edge_neighbor_species, const at::Tensor &edge_vectors,
                         const at::Tensor &table, double knot, double scale, double c_upper,
                         double ellipse, double outer, double taper, const at::Tensor *dE_dbond)
{
  TORCH_CHECK(table.dim() == 2 && table.size(1) >= 4, "mlip::screening: table must be [S^3, n_cols >= 4]");
  int64_t S = 1;
  while (S * S * S < table.size(0)) S++;
  TORCH_CHECK(S * S * S == table.size(0), "mlip::screening: table has ", table.size(0),
              " rows, not a cube S^3");
  TORCH_CHECK(knot > 0.0 && taper > 0.0 && outer > taper && c_upper > 1.0 && ellipse > 0.0,
              "mlip::screening: invalid constants");
  const Graph gr = prepare_graph(center_species, edge_center, edge_neighbor_species, edge_vectors, S);
  const auto dtype = gr.vectors.scalar_type();
  const int64_t E = gr.nedges;
  const at::Tensor tab = table.detach().to(at::kCPU, dtype).contiguous();
  at::Tensor g;
  if (dE_dbond) {
    TORCH_CHECK(dE_dbond->dim() == 1 && dE_dbond->size(0) == E, "mlip::screening_grad: dE_dbond must have shape [",
                E, "], got ", dE_dbond->sizes());
    g = dE_dbond->detach().to(at::kCPU, dtype).contiguous();
  }
  const auto opts = gr.vectors.options();
  at::Tensor out = dE_dbond ? at::empty({E, 3}, opts) : at::empty({E}, opts);    // every edge has a centre: all written
  AT_DISPATCH_FLOATING_TYPES(dtype, "mlip::screening", [&] {
    ScreenArgs<scalar_t> a{};
    a.n_species = static_cast<int>(S);
    a.n_cols = static_cast<int>(tab.size(1));
    a.table = tab.data_ptr<scalar_t>();
    a.inv_knot = static_cast<scalar_t>(1.0 / knot);
    a.scale = static_cast<scalar_t>(scale);
    a.c_upper = static_cast<scalar_t>(c_upper);
    a.ellipse = static_cast<scalar_t>(ellipse);
    a.outer = static_cast<scalar_t>(outer);
    a.taper = static_cast<scalar_t>(taper);
    set_graph(gr, a);
    const bool grad = dE_dbond != nullptr;
    if (grad) {
      a.dE_dbond = g.data_ptr<scalar_t>();
      a.edge_grad = out.data_ptr<scalar_t>();
    } else {
      a.bond = out.data_ptr<scalar_t>();
    }
    const int64_t scratch = base::screening_scratch_size(a);
    at::parallel_for(0, gr.n, GRAIN, [&](int64_t c0, int64_t c1) {
      std::vector<scalar_t> buf(scratch);
#ifdef MLIP_OPS_HAVE_AVX2
      if (use_avx2()) return avx2::screening(a, grad, c0, c1, buf.data());
#endif
      base::screening(a, grad, c0, c1, buf.data());
    });
  });
  return out;
}

at::Tensor screening_bond(const at::Tensor &center_species, const at::Tensor &edge_center,
                          const at::Tensor &edge_neighbor_species, const at::Tensor &edge_vectors,
                          const at::Tensor &table, double knot, double scale, double c_upper,
                          double ellipse, double outer, double taper)
{
  return screening_run(center_species, edge_center, edge_neighbor_species, edge_vectors, table, knot,
                       scale, c_upper, ellipse, outer, taper, nullptr);
}

at::Tensor screening_grad(const at::Tensor &center_species, const at::Tensor &edge_center,
                          const at::Tensor &edge_neighbor_species, const at::Tensor &edge_vectors,
                          const at::Tensor &table, double knot, double scale, double c_upper,
                          double ellipse, double outer, double taper, const at::Tensor &dE_dbond)
{
  return screening_run(center_species, edge_center, edge_neighbor_species, edge_vectors, table, knot,
                       scale, c_upper, ellipse, outer, taper, &dE_dbond);
}

// ---- per-species MLP (SpeciesMLP) forward and input gradient

template <typename T> T *align64(T *p)
{
  const uintptr_t a = reinterpret_cast<uintptr_t>(p);
  return reinterpret_cast<T *>((a + 63) & ~static_cast<uintptr_t>(63));
}

template <typename T> struct PackedMlp {
  at::Tensor storage;
  std::vector<int> width;
  std::vector<const T *> Wt, W, b;
};

template <typename T>
PackedMlp<T> pack_mlp(at::TensorList weights, at::TensorList biases, int64_t n_nets, int64_t n_in)
{
  TORCH_CHECK(n_nets > 0 && weights.size() % n_nets == 0 && weights.size() == biases.size(),
              "mlip::species_mlp: need the same number of weights and biases, a multiple of n_nets");
  const int L = static_cast<int>(weights.size() / n_nets);
  TORCH_CHECK(L >= 1 && L <= 64, "mlip::species_mlp: 1..64 layers per net, got ", L);
  auto pad = [](int64_t w) { return static_cast<int>((w + MLP_PAD - 1) / MLP_PAD * MLP_PAD); };
  std::vector<int64_t> true_width(L + 1);
  true_width[0] = n_in;
  for (int l = 0; l < L; l++) true_width[l + 1] = weights[l].size(0);
  TORCH_CHECK(true_width[L] == 1, "mlip::species_mlp: the last layer must have 1 output");
  PackedMlp<T> P;
  P.width.resize(L + 1);
  for (int l = 0; l < L; l++) P.width[l] = pad(true_width[l]);
  P.width[L] = 1;
  int64_t total = 0;
  for (int l = 0; l < L; l++) total += 2 * P.width[l] * P.width[l + 1] + P.width[l + 1] + P.width[l];
  total *= n_nets;
  P.storage = at::zeros({total + 64}, c10::CppTypeToScalarType<T>::value);
  T *base = align64(P.storage.template data_ptr<T>());
  int64_t off = 0;
  for (int64_t s = 0; s < n_nets; s++)
    for (int l = 0; l < L; l++) {
      const at::Tensor &w_t = weights[s * L + l];
      const at::Tensor &b_t = biases[s * L + l];
      TORCH_CHECK(w_t.dim() == 2 && w_t.size(0) == true_width[l + 1] && w_t.size(1) == true_width[l],
                  "mlip::species_mlp: weight ", s * L + l, " has shape ", w_t.sizes(), ", expected [",
                  true_width[l + 1], ", ", true_width[l], "]");
      TORCH_CHECK(b_t.dim() == 1 && b_t.size(0) == true_width[l + 1], "mlip::species_mlp: bias ",
                  s * L + l, " has shape ", b_t.sizes());
      const at::Tensor wc = w_t.detach().to(at::kCPU, c10::CppTypeToScalarType<T>::value).contiguous();
      const at::Tensor bc = b_t.detach().to(at::kCPU, c10::CppTypeToScalarType<T>::value).contiguous();
      const T *wp = wc.template data_ptr<T>(), *bp = bc.template data_ptr<T>();
      const int K = P.width[l], N = P.width[l + 1];
      const int64_t kin = true_width[l], nout = true_width[l + 1];
      T *Wt = base + off;
      off += (static_cast<int64_t>(K) * N + 15) / 16 * 16;
      T *Wm = base + off;
      off += (static_cast<int64_t>(K) * N + 15) / 16 * 16;
      T *bb = base + off;
      off += (N + 15) / 16 * 16;
      for (int64_t n = 0; n < nout; n++)
        for (int64_t k = 0; k < kin; k++) {
          Wt[k * N + n] = wp[n * kin + k];
          Wm[n * K + k] = wp[n * kin + k];
        }
      for (int64_t n = 0; n < nout; n++) bb[n] = bp[n];
      P.Wt.push_back(Wt);
      P.W.push_back(Wm);
      P.b.push_back(bb);
    }
  TORCH_CHECK(off <= total, "mlip::species_mlp: packing overflow");
  return P;
}

std::tuple<at::Tensor, at::Tensor> species_mlp(const at::Tensor &x_in, const at::Tensor &species_in,
                                               at::TensorList weights, at::TensorList biases,
                                               int64_t n_nets)
{
  TORCH_CHECK(x_in.dim() == 2 && x_in.device().is_cpu(), "mlip::species_mlp: x must be 2-D on the CPU");
  const auto dtype = x_in.scalar_type();
  TORCH_CHECK(dtype == at::kDouble || dtype == at::kFloat,
              "mlip::species_mlp: x must be float32 or float64, got ", dtype);
  const at::Tensor x = x_in.detach().contiguous();
  const at::Tensor species = index_tensor(species_in, "species");
  const int64_t n = x.size(0), n_in = x.size(1);
  TORCH_CHECK(species.size(0) == n, "mlip::species_mlp: species has ", species.size(0),
              " entries for ", n, " rows of x");
  at::Tensor y = pooled_empty({n}, x.options());
  at::Tensor dy = pooled_empty({n, n_in}, x.options());
  if (n == 0) return {y, dy};

  // atoms grouped by species, in blocks of MLP_BLOCK
  const int64_t *sp = species.data_ptr<int64_t>();
  std::vector<int64_t> count(n_nets + 1, 0);
  for (int64_t i = 0; i < n; i++) {
    TORCH_CHECK(sp[i] >= 0 && sp[i] < n_nets, "mlip::species_mlp: species[", i, "] = ", sp[i],
                " is outside [0, ", n_nets, ")");
    count[sp[i] + 1]++;
  }
  for (int64_t s = 0; s < n_nets; s++) count[s + 1] += count[s];
  at::Tensor order_t = at::empty({n}, at::kLong);
  int64_t *order = order_t.data_ptr<int64_t>();
  {
    std::vector<int64_t> pos(count.begin(), count.end() - 1);
    for (int64_t i = 0; i < n; i++) order[pos[sp[i]]++] = i;
  }
  std::vector<int64_t> blocks;
  for (int64_t s = 0; s < n_nets; s++)
    for (int64_t f = count[s]; f < count[s + 1]; f += MLP_BLOCK) {
      blocks.push_back(f);
      blocks.push_back(std::min<int64_t>(MLP_BLOCK, count[s + 1] - f));
      blocks.push_back(s);
    }
  const int64_t n_blocks = static_cast<int64_t>(blocks.size() / 3);

  AT_DISPATCH_FLOATING_TYPES(dtype, "mlip::species_mlp", [&] {
    const PackedMlp<scalar_t> P = pack_mlp<scalar_t>(weights, biases, n_nets, n_in);
    MlpArgs<scalar_t> a{};
    a.n_layers = static_cast<int>(P.width.size()) - 1;
    a.width = P.width.data();
    a.Wt = P.Wt.data();
    a.W = P.W.data();
    a.b = P.b.data();
    a.x = x.data_ptr<scalar_t>();
    a.n_in = static_cast<int>(n_in);
    a.order = order;
    a.blocks = blocks.data();
    a.y = y.data_ptr<scalar_t>();
    a.dy_dx = dy.data_ptr<scalar_t>();
    const int64_t scratch = base::mlp_scratch_size(a);
    at::parallel_for(0, n_blocks, 16, [&](int64_t b0, int64_t b1) {
      std::vector<scalar_t> buf(scratch);
#ifdef MLIP_OPS_HAVE_AVX2
      if (use_avx2()) return avx2::mlp(a, b0, b1, buf.data());
#endif
      base::mlp(a, b0, b1, buf.data());
    });
  });
  return {y, dy};
}

// ---- the one-layer equivariant model (models/equivariant.py, tabulated radial functions)

struct EqPrepared : Graph {
  at::Tensor table, embedding, mixing, gaunt, gaunt_coef, ylm_coef;
  int S = 0, C = 0, L = 0, corr = 0, F = 0, n_triples = 0, nnz = 0;
  int64_t n_intervals = 0;
  double step = 0.0, cutoff = 0.0;
};

EqPrepared eq_prepare(const at::Tensor &center_species, const at::Tensor &edge_center,
                      const at::Tensor &edge_neighbor_species, const at::Tensor &edge_vectors,
                      const at::Tensor &table, double step, double cutoff,
                      const at::Tensor &embedding, const at::Tensor &mixing,
                      const at::Tensor &gaunt_index, const at::Tensor &gaunt_coef,
                      const at::Tensor &ylm_parent, const at::Tensor &ylm_axis,
                      const at::Tensor &ylm_coef, int64_t l_max, int64_t correlation)
{
  EqPrepared p;
  TORCH_CHECK(l_max >= 1 && l_max <= 4, "mlip::eq: l_max must be 1..4, got ", l_max);
  TORCH_CHECK(correlation >= 1 && correlation <= 3, "mlip::eq: correlation must be 1..3, got ",
              correlation);
  TORCH_CHECK(embedding.dim() == 2 && embedding.size(0) > 0 && embedding.size(1) > 0,
              "mlip::eq: embedding must be [S, channels], got ", embedding.sizes());
  const int64_t S = embedding.size(0), C = embedding.size(1), K = (l_max + 1) * C;
  TORCH_CHECK(mixing.dim() == 3 && mixing.size(0) == l_max + 1 && mixing.size(1) == C &&
                  mixing.size(2) == C,
              "mlip::eq: mixing must be [", l_max + 1, ", ", C, ", ", C, "], got ", mixing.sizes());
  TORCH_CHECK(table.dim() == 3 && table.size(0) > 0 && table.size(1) == 4 && table.size(2) == K,
              "mlip::eq: radial table must be [n_intervals, 4, ", K, "], got ", table.sizes());
  TORCH_CHECK(step > 0.0 && cutoff > 0.0 &&
                  std::abs(step * static_cast<double>(table.size(0)) - cutoff) <= 1e-9 * cutoff,
              "mlip::eq: the radial table (", table.size(0), " intervals of ", step,
              " Å) must end at the cutoff ", cutoff);
  TORCH_CHECK(gaunt_index.dim() == 2 && gaunt_index.size(0) == 4 && gaunt_coef.dim() == 1 &&
                  gaunt_coef.size(0) == gaunt_index.size(1),
              "mlip::eq: gaunt_index must be [4, nnz] and gaunt_coef [nnz]");
  static_cast<Graph &>(p) = prepare_graph(center_species, edge_center, edge_neighbor_species,
                                          edge_vectors, S);
  const auto dtype = p.vectors.scalar_type();
  p.table = table.detach().to(at::kCPU, dtype).contiguous();
  p.embedding = embedding.detach().to(at::kCPU, dtype).contiguous();
  p.mixing = mixing.detach().to(at::kCPU, dtype).contiguous();
  p.gaunt = gaunt_index.to(at::kCPU, at::kLong).t().contiguous();
  p.gaunt_coef = gaunt_coef.detach().to(at::kCPU, dtype).contiguous();
  const int64_t nlm = (l_max + 1) * (l_max + 1);
  const int64_t *g = p.gaunt.data_ptr<int64_t>();
  int64_t n_triples = 0;
  for (int64_t q = 0; q < p.gaunt.size(0); q++) {
    for (int k = 0; k < 3; k++)
      TORCH_CHECK(g[4 * q + k] >= 1 && g[4 * q + k] < nlm, "mlip::eq: gaunt_index out of range");
    TORCH_CHECK(g[4 * q + 3] >= 0, "mlip::eq: negative triple index");
    n_triples = std::max(n_triples, g[4 * q + 3] + 1);
  }
  p.ylm_coef = ylm_term_coefficients(ylm_parent, ylm_axis, ylm_coef, l_max).to(dtype);
  p.S = static_cast<int>(S);
  p.C = static_cast<int>(C);
  p.L = static_cast<int>(l_max);
  p.corr = static_cast<int>(correlation);
  p.n_triples = correlation >= 3 ? static_cast<int>(n_triples) : 0;
  p.nnz = correlation >= 3 ? static_cast<int>(p.gaunt.size(0)) : 0;
  p.F = p.C * (1 + (correlation >= 2 ? p.L : 0) + p.n_triples);
  p.n_intervals = table.size(0);
  p.step = step;
  p.cutoff = cutoff;
  return p;
}

template <typename T> EqArgs<T> eq_args(const EqPrepared &p)
{
  EqArgs<T> a{};
  a.n_species = p.S;
  a.channels = p.C;
  a.l_max = p.L;
  a.correlation = p.corr;
  a.n_features = p.F;
  a.n_intervals = p.n_intervals;
  a.step = static_cast<T>(p.step);
  a.cutoff = static_cast<T>(p.cutoff);
  a.table = p.table.data_ptr<T>();
  a.embedding = p.embedding.data_ptr<T>();
  a.mixing = p.mixing.data_ptr<T>();
  a.n_triples = p.n_triples;
  a.nnz = p.nnz;
  a.gaunt = p.gaunt.data_ptr<int64_t>();
  a.gaunt_coef = p.gaunt_coef.data_ptr<T>();
  a.ylm_coef = p.ylm_coef.data_ptr<T>();
  a.y00 = static_cast<T>(0.28209479177387814);    // 1/sqrt(4 pi), as equivariant.py
  set_graph(p, a);
  return a;
}

std::tuple<at::Tensor, at::Tensor> eq_features(
    const at::Tensor &center_species, const at::Tensor &edge_center,
    const at::Tensor &edge_neighbor_species, const at::Tensor &edge_vectors,
    const at::Tensor &table, double step, double cutoff, const at::Tensor &embedding,
    const at::Tensor &mixing, const at::Tensor &gaunt_index, const at::Tensor &gaunt_coef,
    const at::Tensor &ylm_parent, const at::Tensor &ylm_axis, const at::Tensor &ylm_coef,
    int64_t l_max, int64_t correlation)
{
  const EqPrepared p = eq_prepare(center_species, edge_center, edge_neighbor_species, edge_vectors,
                                  table, step, cutoff, embedding, mixing, gaunt_index, gaunt_coef,
                                  ylm_parent, ylm_axis, ylm_coef, l_max, correlation);
  const auto opts = p.vectors.options();
  at::Tensor B = pooled_empty({p.n, p.F}, opts);
  at::Tensor A = pooled_empty({p.n, (p.L + 1) * (p.L + 1), p.C}, opts);
  AT_DISPATCH_FLOATING_TYPES(p.vectors.scalar_type(), "mlip::eq_features", [&] {
    EqArgs<scalar_t> args = eq_args<scalar_t>(p);
    args.B = B.data_ptr<scalar_t>();
    args.A = A.data_ptr<scalar_t>();
    run_parallel<scalar_t>(p.n, base::eq_scratch_size(args), args,
                           [](const EqArgs<scalar_t> &a, int64_t c0, int64_t c1, scalar_t *s) {
#ifdef MLIP_OPS_HAVE_AVX2
      if (use_avx2()) return avx2::eq_features(a, c0, c1, s);
#endif
      base::eq_features(a, c0, c1, s);
    });
  });
  return {B, A};
}

at::Tensor eq_edge_grad(const at::Tensor &center_species, const at::Tensor &edge_center,
                        const at::Tensor &edge_neighbor_species, const at::Tensor &edge_vectors,
                        const at::Tensor &table, double step, double cutoff,
                        const at::Tensor &embedding, const at::Tensor &mixing,
                        const at::Tensor &gaunt_index, const at::Tensor &gaunt_coef,
                        const at::Tensor &ylm_parent, const at::Tensor &ylm_axis,
                        const at::Tensor &ylm_coef, int64_t l_max, int64_t correlation,
                        const at::Tensor &A, const at::Tensor &dE_dB)
{
  const EqPrepared p = eq_prepare(center_species, edge_center, edge_neighbor_species, edge_vectors,
                                  table, step, cutoff, embedding, mixing, gaunt_index, gaunt_coef,
                                  ylm_parent, ylm_axis, ylm_coef, l_max, correlation);
  const int64_t nlm = (p.L + 1) * (p.L + 1);
  TORCH_CHECK(A.dim() == 3 && A.size(0) == p.n && A.size(1) == nlm && A.size(2) == p.C,
              "mlip::eq_edge_grad: A must have shape [", p.n, ", ", nlm, ", ", p.C, "], got ",
              A.sizes());
  TORCH_CHECK(dE_dB.dim() == 2 && dE_dB.size(0) == p.n && dE_dB.size(1) == p.F,
              "mlip::eq_edge_grad: dE_dB must have shape [", p.n, ", ", p.F, "], got ",
              dE_dB.sizes());
  const auto dtype = p.vectors.scalar_type();
  const at::Tensor Ac = A.detach().to(at::kCPU, dtype).contiguous();
  const at::Tensor G = dE_dB.detach().to(at::kCPU, dtype).contiguous();
  const at::Tensor mixing_t = p.mixing.transpose(1, 2).contiguous();    // dE/dA' = dE/dA mix^T
  at::Tensor grad = pooled_empty({p.nedges, 3}, p.vectors.options());
  AT_DISPATCH_FLOATING_TYPES(dtype, "mlip::eq_edge_grad", [&] {
    EqArgs<scalar_t> args = eq_args<scalar_t>(p);
    args.mixing_t = mixing_t.data_ptr<scalar_t>();
    args.A = const_cast<scalar_t *>(Ac.data_ptr<scalar_t>());
    args.dE_dB = G.data_ptr<scalar_t>();
    args.edge_grad = grad.data_ptr<scalar_t>();
    run_parallel<scalar_t>(p.n, base::eq_scratch_size(args), args,
                           [](const EqArgs<scalar_t> &a, int64_t c0, int64_t c1, scalar_t *s) {
#ifdef MLIP_OPS_HAVE_AVX2
      if (use_avx2()) return avx2::eq_edge_grad(a, c0, c1, s);
#endif
      base::eq_edge_grad(a, c0, c1, s);
    });
  });
  return grad;
}

std::string ops_info()
{
  return std::string("mlip_ops 3; kernels ") + (use_avx2() ? "avx2+fma" : "baseline") +
      "; torch threads " + std::to_string(at::get_num_threads());
}

}    // namespace
}    // namespace mlip_ops

extern "C" const char *mlip_ops_info(void)
{
  static thread_local std::string info;
  info = mlip_ops::ops_info();
  return info.c_str();
}

TORCH_LIBRARY(mlip, m)
{
  m.def("nep_descriptors(Tensor center_species, Tensor edge_center, "
        "Tensor edge_neighbor_species, Tensor edge_vectors, Tensor c_radial, Tensor c_angular, "
        "Tensor lm_weight, Tensor ylm_parent, Tensor ylm_axis, Tensor ylm_coef, float cutoff, float cutoff_angular, int l_max, "
        "Tensor? bond=None) -> (Tensor, Tensor)");
  m.def("nep_edge_grad(Tensor center_species, Tensor edge_center, "
        "Tensor edge_neighbor_species, Tensor edge_vectors, Tensor c_radial, Tensor c_angular, "
        "Tensor lm_weight, Tensor ylm_parent, Tensor ylm_axis, Tensor ylm_coef, float cutoff, float cutoff_angular, int l_max, Tensor A, Tensor dE_dq) -> Tensor");
  m.def("nep_edge_grad_bond(Tensor center_species, Tensor edge_center, "
        "Tensor edge_neighbor_species, Tensor edge_vectors, Tensor c_radial, Tensor c_angular, "
        "Tensor lm_weight, Tensor ylm_parent, Tensor ylm_axis, Tensor ylm_coef, float cutoff, float cutoff_angular, int l_max, Tensor A, Tensor dE_dq, "
        "Tensor? bond) -> (Tensor, Tensor)");
  m.def("screening_bond(Tensor center_species, Tensor edge_center, Tensor edge_neighbor_species, "
        "Tensor edge_vectors, Tensor table, float knot, float scale, float c_upper, float ellipse, float outer, "
        "float taper) -> Tensor");
  m.def("screening_grad(Tensor center_species, Tensor edge_center, Tensor edge_neighbor_species, "
        "Tensor edge_vectors, Tensor table, float knot, float scale, float c_upper, float ellipse, float outer, "
        "float taper, Tensor dE_dbond) -> Tensor");
  m.def("species_mlp(Tensor x, Tensor species, Tensor[] weights, Tensor[] biases, int n_nets) "
        "-> (Tensor, Tensor)");
  m.def("eq_features(Tensor center_species, Tensor edge_center, "
        "Tensor edge_neighbor_species, Tensor edge_vectors, Tensor table, float step, float cutoff, "
        "Tensor embedding, Tensor mixing, Tensor gaunt_index, Tensor gaunt_coef, Tensor ylm_parent, "
        "Tensor ylm_axis, Tensor ylm_coef, int l_max, int correlation) -> (Tensor, Tensor)");
  m.def("eq_edge_grad(Tensor center_species, Tensor edge_center, "
        "Tensor edge_neighbor_species, Tensor edge_vectors, Tensor table, float step, float cutoff, "
        "Tensor embedding, Tensor mixing, Tensor gaunt_index, Tensor gaunt_coef, Tensor ylm_parent, "
        "Tensor ylm_axis, Tensor ylm_coef, int l_max, int correlation, Tensor A, Tensor dE_dB) -> Tensor");
  m.def("ops_info() -> str", &mlip_ops::ops_info);
}

TORCH_LIBRARY_IMPL(mlip, CPU, m)
{
  m.impl("nep_descriptors", &mlip_ops::nep_descriptors);
  m.impl("nep_edge_grad", &mlip_ops::nep_edge_grad);
  m.impl("nep_edge_grad_bond", &mlip_ops::nep_edge_grad_bond);
  m.impl("screening_bond", &mlip_ops::screening_bond);
  m.impl("screening_grad", &mlip_ops::screening_grad);
  m.impl("species_mlp", &mlip_ops::species_mlp);
  m.impl("eq_features", &mlip_ops::eq_features);
  m.impl("eq_edge_grad", &mlip_ops::eq_edge_grad);
}
