// liqo-webhook: the admission webhook's entry point (bundled to dist/liqo-webhook.cjs).
// Every start-up failure is one `error: ...` line on stderr and exit code 1.
import { errorText } from './logger.js';
import { parseWebhookArgs, runWebhook, type WebhookCliOptions } from './cli.js';

async function main(): Promise<void> {
  let options: WebhookCliOptions;
  try {
    options = await parseWebhookArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`error: ${errorText(err)}\n`);
    process.exit(1);
  }
  try {
    await runWebhook(options);
  } catch (err) {
    process.stderr.write(`error: ${errorText(err)}\n`);
    process.exit(1);
  }
}

void main();
