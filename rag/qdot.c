// The int8 scan kernel of flat.go. Go does not vectorise loops, and the scan
// is the whole cost of a query, so it is written in C: a portable loop, and
// on x86-64 an AVX2 version chosen at run time (the binary still runs on
// CPUs without AVX2).
#include "qdot.h"

static void qdot_generic(const int8_t *q, const int8_t *codes, size_t dim, size_t n, int32_t *out) {
	for (size_t r = 0; r < n; r++) {
		const int8_t *c = codes + r * dim;
		int32_t s = 0;
		for (size_t i = 0; i < dim; i++) {
			s += (int32_t)q[i] * (int32_t)c[i];
		}
		out[r] = s;
	}
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

// 16 codes at a time: sign-extend to int16, multiply and add pairs into
// eight int32 lanes (|q*c| <= 127*127, so a pair fits easily).
__attribute__((target("avx2"))) static void qdot_avx2(const int8_t *q, const int8_t *codes, size_t dim, size_t n, int32_t *out) {
	size_t vec = dim & ~(size_t)15;
	for (size_t r = 0; r < n; r++) {
		const int8_t *c = codes + r * dim;
		__m256i acc0 = _mm256_setzero_si256(), acc1 = _mm256_setzero_si256();
		size_t i = 0;
		for (; i + 32 <= vec; i += 32) {
			__m256i q0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(q + i)));
			__m256i c0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(c + i)));
			__m256i q1 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(q + i + 16)));
			__m256i c1 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(c + i + 16)));
			acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(q0, c0));
			acc1 = _mm256_add_epi32(acc1, _mm256_madd_epi16(q1, c1));
		}
		for (; i < vec; i += 16) {
			__m256i q0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(q + i)));
			__m256i c0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(c + i)));
			acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(q0, c0));
		}
		__m256i acc = _mm256_add_epi32(acc0, acc1);
		__m128i s = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
		s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
		s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
		int32_t sum = _mm_cvtsi128_si32(s);
		for (; i < dim; i++) {
			sum += (int32_t)q[i] * (int32_t)c[i];
		}
		out[r] = sum;
	}
}

static int avx2;

int r2c_qdot_init(void) {
	__builtin_cpu_init();
	avx2 = __builtin_cpu_supports("avx2") ? 1 : 0;
	return avx2;
}

void r2c_qdot(const int8_t *q, const int8_t *codes, size_t dim, size_t n, int32_t *out) {
	if (avx2) {
		qdot_avx2(q, codes, dim, n, out);
	} else {
		qdot_generic(q, codes, dim, n, out);
	}
}
#else
int r2c_qdot_init(void) { return 0; }

void r2c_qdot(const int8_t *q, const int8_t *codes, size_t dim, size_t n, int32_t *out) {
	qdot_generic(q, codes, dim, n, out);
}
#endif
