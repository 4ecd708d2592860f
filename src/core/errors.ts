/**
 * The one error type for bad input of any kind (config, data file, weights file, URL state).
 * Its message is a single line naming what is wrong and what was expected; the CLI prints it
 * alone on stderr and exits with code 2. Anything else that escapes is a bug in gradlab.
 *
 * @example
 * throw new InputError(`model.layers[1].activation: expected one of sigmoid, tanh; got "sigmod"`);
 */
export class InputError extends Error {
  constructor(message: string) {
    super(message.replace(/\s*\n\s*/g, " "));
    this.name = "InputError";
  }
}
