// Never answers: the promise stays pending, so only plugboard's timeout ends the call.
export default function () {
  return new Promise(() => {});
}
