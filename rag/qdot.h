#include <stdint.h>
#include <stddef.h>

// r2c_qdot writes out[r] = sum_i q[i] * codes[r*dim + i] for r in [0, n).
void r2c_qdot(const int8_t *q, const int8_t *codes, size_t dim, size_t n, int32_t *out);

// r2c_qdot_init picks the kernel for this CPU (call once, before any
// r2c_qdot); it returns 1 when the AVX2 kernel is used.
int r2c_qdot_init(void);
