// Orders test files for a run without timings from an earlier one (a fresh clone, as in CI). jest then orders by file
// size, so the files that run longest (the exercises and workflows, which wait on real timings against local engines,
// the catalogue's lab checks, which synthesize every lab, the diagrams rendered in Chromium, and the constructs copied
// and compiled) would start last and finish alone; here they start first.
// With timings on record, jest's own order (slowest first) stands.
const Sequencer = require('@jest/test-sequencer').default;

const LONG_RUNNING = /\/test\/(labs\/([^/]+\/(exercise|workflow)|catalogue-labs-[a-z]|diagram-render)|lib\/construct-copy)\.test\.ts$/;

class LongFirstSequencer extends Sequencer {
  sort(tests) {
    const sorted = super.sort(tests);
    if (sorted.some((test) => test.duration != null)) return sorted;
    return [...sorted.filter((test) => LONG_RUNNING.test(test.path)), ...sorted.filter((test) => !LONG_RUNNING.test(test.path))];
  }
}

module.exports = LongFirstSequencer;
