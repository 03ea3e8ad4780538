/* Per-species MLP forward + input gradient (SpeciesMLP of nep.py), template implementation for
   one ISA variant; included by nep_kernel_impl.h inside its namespaces (see nep_kernel.h).

   For a block of atoms of one species: h_0 = x, h_{l+1} = tanh(h_l W_l^T + b_l) for the hidden
   layers, y = h_{L-1} . w_last + b_last; then dy/dx by the chain rule (tanh' = 1 - h^2). The
   matrix products are small register-tiled kernels (no BLAS: inside LAMMPS, a BLAS call from
   torch may bind to the slow reference dgemm_ that liblammps exports). tanh uses a vectorised
   expm1 (a few ulp).
*/

template <typename T> struct IntVec;
template <> struct IntVec<double> {
  typedef int64_t v __attribute__((vector_size(VBYTES)));
};
template <> struct IntVec<float> {
  typedef int32_t v __attribute__((vector_size(VBYTES)));
};

// expm1(y) = exp(y) - 1 for y in [-700, 0] (float: [-87, 0]): y = n ln2 + r, |r| <= ln2/2,
// expm1(r) by its Taylor polynomial (degree 13; float: 7), then 2^n expm1(r) + (2^n - 1) with
// 2^n built in the exponent bits (2^n - 1 is exact). Relative error a few ulp.
template <typename T> inline vec<T> vexpm1_nonpositive(vec<T> y)
{
  using V = vec<T>;
  using I = typename IntVec<T>::v;
  constexpr bool D = sizeof(T) == 8;
  const T magic = D ? T(6755399441055744.0) : T(12582912.0);    // 1.5 * 2^52 (2^23)
  const V nf = y * T(1.4426950408889634074);                    // 1 / ln 2
  const V t = nf + magic;
  const V n = t - magic;    // nearest integer
  const V r = D ? (y - n * T(6.93147180369123816490e-01)) - n * T(1.90821492927058770002e-10)
                : (y - n * T(0.693359375)) - n * T(-2.12194440e-4);
  V p;    // expm1(r) / r
  if constexpr (D) {
    p = vsplat(T(1.0 / 6227020800.0));
    p = p * r + T(1.0 / 479001600.0);
    p = p * r + T(1.0 / 39916800.0);
    p = p * r + T(1.0 / 3628800.0);
    p = p * r + T(1.0 / 362880.0);
    p = p * r + T(1.0 / 40320.0);
    p = p * r + T(1.0 / 5040.0);
    p = p * r + T(1.0 / 720.0);
    p = p * r + T(1.0 / 120.0);
    p = p * r + T(1.0 / 24.0);
    p = p * r + T(1.0 / 6.0);
    p = p * r + T(0.5);
    p = p * r + T(1.0);
  } else {
    p = vsplat(T(1.0 / 5040.0));
    p = p * r + T(1.0 / 720.0);
    p = p * r + T(1.0 / 120.0);
    p = p * r + T(1.0 / 24.0);
    p = p * r + T(1.0 / 6.0);
    p = p * r + T(0.5);
    p = p * r + T(1.0);
  }
  const V em = p * r;
  const V vmagic = vsplat(magic);
  const I ni = (I) t - (I) vmagic;    // n as an integer (the low mantissa bits of t)
  const V scale = (V) ((ni + (D ? 1023 : 127)) << (D ? 52 : 23));
  return scale * em + (scale - T(1));
}

// tanh(x) = -expm1(-2|x|) / (2 + expm1(-2|x|)) with the sign of x
template <typename T> inline vec<T> vtanh(vec<T> x)
{
  using V = vec<T>;
  const V zero = vsplat(T(0));
  const V a = x < zero ? -x : x;
  const T lo = sizeof(T) == 8 ? T(-700) : T(-87);
  V y = T(-2) * a;
  y = y < lo ? vsplat(lo) : y;
  const V e = vexpm1_nonpositive<T>(y);
  const V th = -e / (T(2) + e);
  return x < zero ? -th : th;
}

// out[i][n] = (bias[n]) + sum_k in[i][k] m[k][n], i < MLP_BLOCK, k < K, n < N; in rows have
// stride K, m rows and out rows stride N; N a multiple of MLP_PAD
template <typename T, bool BIAS>
inline void block_gemm(const T *in, int K, const T *m, int N, const T *bias, T *out)
{
  using V = vec<T>;
  constexpr int W = VT<T>::W;
  constexpr int RA = 4;    // rows per tile
  for (int i0 = 0; i0 < MLP_BLOCK; i0 += RA)
    for (int n0 = 0; n0 < N; n0 += 2 * W) {
      V acc[RA][2];
      for (int r = 0; r < RA; r++) {
        if constexpr (BIAS) {
          acc[r][0] = vload(bias + n0);
          acc[r][1] = vload(bias + n0 + W);
        } else {
          acc[r][0] = acc[r][1] = V{};
        }
      }
      for (int k = 0; k < K; k++) {
        const V m0 = vload(m + k * N + n0), m1 = vload(m + k * N + n0 + W);
        for (int r = 0; r < RA; r++) {
          const T a = in[(i0 + r) * K + k];
          acc[r][0] += a * m0;
          acc[r][1] += a * m1;
        }
      }
      for (int r = 0; r < RA; r++) {
        vstore(out + (i0 + r) * N + n0, acc[r][0]);
        vstore(out + (i0 + r) * N + n0 + W, acc[r][1]);
      }
    }
}

template <typename T> int64_t mlp_scratch_t(const MlpArgs<T> &a)
{
  int64_t total = 0, wmax = 0;
  for (int l = 0; l < a.n_layers; l++) {
    total += static_cast<int64_t>(MLP_BLOCK) * a.width[l];    // h_l
    if (a.width[l] > wmax) wmax = a.width[l];
  }
  return total + 2 * MLP_BLOCK * wmax + 64;    // + two gradient buffers + alignment slack
}

template <typename T> void mlp_t(const MlpArgs<T> &a, int64_t b0, int64_t b1, T *scratch)
{
  using V = vec<T>;
  constexpr int W = VT<T>::W;
  const int L = a.n_layers;
  T *base = align64(scratch);
  T *h[64];    // h_0 .. h_{L-1} (L <= 64 checked by the caller)
  int64_t off = 0;
  int wmax = 0;
  for (int l = 0; l < L; l++) {
    h[l] = base + off;
    off += static_cast<int64_t>(MLP_BLOCK) * a.width[l];
    if (a.width[l] > wmax) wmax = a.width[l];
  }
  T *g0 = base + off;
  T *g1 = g0 + static_cast<int64_t>(MLP_BLOCK) * wmax;

  for (int64_t blk = b0; blk < b1; blk++) {
    const int64_t first = a.blocks[3 * blk], count = a.blocks[3 * blk + 1];
    const int64_t sp = a.blocks[3 * blk + 2];
    const int w0 = a.width[0];
    // h_0 = x (rows beyond count and columns beyond n_in are zero)
    for (int i = 0; i < MLP_BLOCK; i++) {
      T *row = h[0] + i * w0;
      if (i < count) {
        const T *xi = a.x + a.order[first + i] * a.n_in;
        for (int k = 0; k < a.n_in; k++) row[k] = xi[k];
        for (int k = a.n_in; k < w0; k++) row[k] = T(0);
      } else {
        for (int k = 0; k < w0; k++) row[k] = T(0);
      }
    }
    // hidden layers
    for (int l = 0; l + 1 < L; l++) {
      const int K = a.width[l], N = a.width[l + 1];
      const int idx = static_cast<int>(sp) * L + l;
      block_gemm<T, true>(h[l], K, a.Wt[idx], N, a.b[idx], h[l + 1]);
      for (int j = 0; j < MLP_BLOCK * N; j += W) vstore(h[l + 1] + j, vtanh<T>(vload(h[l + 1] + j)));
    }
    // output layer: y = h_{L-1} . w + b
    const int KL = a.width[L - 1];
    const T *wl = a.W[static_cast<int>(sp) * L + L - 1];
    const T bl = a.b[static_cast<int>(sp) * L + L - 1][0];
    for (int i = 0; i < count; i++) {
      V acc{};
      const T *hi = h[L - 1] + i * KL;
      for (int k = 0; k < KL; k += W) acc += vload(hi + k) * vload(wl + k);
      a.y[a.order[first + i]] = hsum<T>(acc) + bl;
    }
    // backward: g = dy/dh_{L-1} = w for every row
    T *g = g0, *gn = g1;
    for (int i = 0; i < MLP_BLOCK; i++)
      for (int k = 0; k < KL; k += W) vstore(g + i * KL + k, vload(wl + k));
    for (int l = L - 2; l >= 0; l--) {
      const int K = a.width[l], N = a.width[l + 1];
      const int idx = static_cast<int>(sp) * L + l;
      for (int j = 0; j < MLP_BLOCK * N; j += W) {    // dy/dz = g (1 - h^2)
        const V hv = vload(h[l + 1] + j);
        vstore(g + j, vload(g + j) * (T(1) - hv * hv));
      }
      block_gemm<T, false>(g, N, a.W[idx], K, nullptr, gn);    // dy/dh_l = (dy/dz) W
      T *tmp = g;
      g = gn;
      gn = tmp;
    }
    for (int i = 0; i < count; i++) {
      T *out = a.dy_dx + a.order[first + i] * a.n_in;
      for (int k = 0; k < a.n_in; k++) out[k] = g[i * w0 + k];
    }
  }
}
