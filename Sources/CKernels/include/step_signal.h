// A counter one thread raises and another waits on: the hand-off between two threads that
// work on the same training batch (Heads/SplitHead.swift). Waiting spins for a few
// microseconds (the other side is usually that close) and then yields the CPU, so a machine
// with fewer cores than threads, or busy with other work, still makes progress.
#ifndef HEADSTART_STEP_SIGNAL_H
#define HEADSTART_STEP_SIGNAL_H

/// *counter = value, with release order: what the raising thread wrote before is visible to a
/// thread whose hs_signal_wait returns.
void hs_signal_raise(long *counter, long value);
/// Returns once *counter >= value (acquire order).
void hs_signal_wait(const long *counter, long value);

#endif
