// The one condition poll lives with the launcher (scripts/ may not import test/): tests use it from here.
export { waitFor, type WaitOptions } from '../../scripts/launch/wait-for.js';
