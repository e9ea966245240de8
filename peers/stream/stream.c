/*
 * STREAM's Copy kernel (McCalpin), for checking moebench's RAM copy probe against C on the same
 * machine: c[i] = a[i] over arrays of doubles far larger than the last-level cache, OpenMP
 * threads with static scheduling, the best of `reps` timed runs after one untimed, counting
 * 2 x 8 bytes per element as STREAM does. Written from STREAM's description, not its source.
 *
 *     stream_copy ARRAY_BYTES REPS   ->  prints "best_gbps median_gbps threads"
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int ascending(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return (a > b) - (a < b);
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: stream_copy ARRAY_BYTES REPS\n");
    return 2;
  }
  size_t n = strtoull(argv[1], NULL, 10) / sizeof(double);
  int reps = atoi(argv[2]);
  double *a = aligned_alloc(64, n * sizeof(double));
  double *c = aligned_alloc(64, n * sizeof(double));
  double *rates = malloc(sizeof(double) * reps);
  if (!a || !c || !rates || reps < 1) return 1;
  /* first touch by the threads that will copy, as STREAM does */
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i < n; i++) a[i] = 1.0, c[i] = 0.0;
  for (int rep = 0; rep <= reps; rep++) {
    double start = omp_get_wtime();
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) c[i] = a[i];
    double seconds = omp_get_wtime() - start;
    if (rep > 0) rates[rep - 1] = 2.0 * n * sizeof(double) / seconds / 1e9;
  }
  qsort(rates, reps, sizeof(double), ascending);
  /* use c, so the copy cannot be optimised away */
  if (c[n / 2] != 1.0) return 1;
  printf("%f %f %d\n", rates[reps - 1], rates[reps / 2], omp_get_max_threads());
  return 0;
}
