import { ConstructValidationError } from '../../lib/core/validation';

/** The codes of the problems `build` throws at synth, in order; [] when it throws none. Other errors propagate. */
export function problemCodesOf(build: () => unknown): string[] {
  try {
    build();
  } catch (error) {
    if (error instanceof ConstructValidationError) return error.problems.map((p) => p.code);
    throw error;
  }
  return [];
}

/** The ConstructValidationError `build` throws; fails the test when it throws none. */
export function validationErrorOf(build: () => unknown): ConstructValidationError {
  try {
    build();
  } catch (error) {
    if (error instanceof ConstructValidationError) return error;
    throw error;
  }
  throw new Error('expected a ConstructValidationError, but the construct was accepted');
}

/** The problems `build` throws at synth as `<code>: <message>`; [] when it throws none. */
export function problemMessagesOf(build: () => unknown): string[] {
  try {
    build();
  } catch (error) {
    if (error instanceof ConstructValidationError) return error.problems.map((p) => `${p.code}: ${p.message}`);
    throw error;
  }
  return [];
}
