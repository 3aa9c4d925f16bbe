// Where a benchmark program's event loop starts and ends, for benchmarks.profile (the hand loop
// compiles it in; nutag's job declares it to cling around RunGraphs, benchmarks/nutag_job.py).
//
// Under `valgrind --tool=callgrind --instr-atstart=no` a program runs uninstrumented (valgrind's
// bare translation, several times faster than instrumented) until it asks for instrumentation:
// ROOT's start-up (library loading, cling, the dictionaries) then costs seconds instead of
// minutes. Collection is restricted to the loop function anyway (--toggle-collect), so the
// profile is the same. Outside valgrind the request is a few no-op instructions.
#pragma once

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define BENCH_LOOP_STARTS() CALLGRIND_START_INSTRUMENTATION
#define BENCH_LOOP_ENDS() CALLGRIND_STOP_INSTRUMENTATION
#else
#define BENCH_LOOP_STARTS() ((void)0)
#define BENCH_LOOP_ENDS() ((void)0)
#endif
