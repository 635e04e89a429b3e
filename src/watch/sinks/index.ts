/** Alert delivery for `leakwatch watch`: the sinks and the dispatcher in front of them. */
export { AlertDispatcher, type DispatcherOptions, type SinkStatus } from './dispatch.js';
export { LogSink, logLine, type LogSinkOptions } from './log.js';
export { JsonlSink, jsonLine } from './jsonl.js';
export { WebhookSink, type WebhookSinkOptions } from './webhook.js';
export { SlackSink, slackPayload, type SlackPayload, type SlackSinkOptions } from './slack.js';
export {
  AlertmanagerSink,
  toAlertmanager,
  type AlertmanagerSinkOptions,
  type PostableAlert,
} from './alertmanager.js';
export { SinkError, headersFromEnv, type HttpSinkOptions } from './http.js';
