// Errors that carry their exit code, usable from library code (nothing may import cli/).

/** The user's input is wrong (a bad flag, a missing or unsafe path, a bad config): exit 2. */
export class UsageError extends Error {}
