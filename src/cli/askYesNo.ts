// A yes/no question on the terminal (stderr, so stdout stays the verb's output); anything but
// "y" or "yes" is no.
import * as readline from 'readline';

export function askYesNo(question: string): Promise<boolean> {
  return new Promise((resolve) => {
    const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
    rl.question(question, (a) => {
      rl.close();
      resolve(/^y(es)?$/i.test(a.trim()));
    });
  });
}
