// Leaves the call's text as `state` for its own response phase and marks the shared context;
// the response phase reports what reached it, and from which worker.
export function request(input) {
  return {
    state: { asked: input.arguments.text, worker: process.pid },
    context: { ...input.context, [input.config.name]: input.metadata.phase },
  };
}

export function response(input) {
  return { metadata: { state: input.state, context: input.context, worker: process.pid } };
}
