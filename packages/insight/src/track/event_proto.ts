// The TensorBoard event format as protobuf messages, written from TensorFlow's documented definitions
// (tensorflow/core/util/event.proto, tensorflow/core/framework/summary.proto) and trimmed to the fields Insight
// writes. Field numbers and types are the format's; a reader that knows the full schema skips nothing.
// The schema is kept as text in this module (not a .proto file beside it) so the compiled package, which tsc
// builds without copying assets, loads it the same way as the sources do; protobufjs parses it once.
import * as protobuf from 'protobufjs';

export const TENSORBOARD_PROTO = `
syntax = "proto3";
package tensorflow;

// One record of an event file: a time, a global step, and what happened.
message Event {
  double wall_time = 1;        // seconds since the Unix epoch
  int64 step = 2;              // global step (the x axis in TensorBoard)
  oneof what {
    string file_version = 3;   // first record of every file: "brain.Event:2"
    Summary summary = 5;
  }
}

// Serialization of a histogram: parallel arrays of bucket right edges and counts.
// Bucket i covers (bucket_limit[i-1], bucket_limit[i]]; the first starts at min.
message HistogramProto {
  double min = 1;
  double max = 2;
  double num = 3;
  double sum = 4;
  double sum_squares = 5;
  repeated double bucket_limit = 6 [packed = true];
  repeated double bucket = 7 [packed = true];
}

message Summary {
  message Image {
    int32 height = 1;
    int32 width = 2;
    int32 colorspace = 3;               // 1 grayscale, 2 grayscale + alpha, 3 RGB, 4 RGBA
    bytes encoded_image_string = 4;     // PNG (or JPEG) bytes
  }
  message Value {
    string tag = 1;
    oneof value {
      float simple_value = 2;
      Image image = 4;
      HistogramProto histo = 5;
    }
  }
  repeated Value value = 1;
}
`;

const root = protobuf.parse(TENSORBOARD_PROTO, { keepCase: true }).root;

/** protobufjs types of the schema above (field names in snake_case, as in the .proto). */
export const EventType = root.lookupType('tensorflow.Event');
export const SummaryType = root.lookupType('tensorflow.Summary');
export const HistogramType = root.lookupType('tensorflow.HistogramProto');

/** A HistogramProto as plain data. */
export interface Histogram {
  min: number;
  max: number;
  num: number;
  sum: number;
  sum_squares: number;
  bucket_limit: number[];
  bucket: number[];
}

/** A Summary.Image as plain data. */
export interface SummaryImage {
  height: number;
  width: number;
  colorspace: number;
  encoded_image_string: Uint8Array;
}

/** One Summary.Value: a tag and exactly one of the three kinds. */
export type SummaryValue =
  | { tag: string; simple_value: number }
  | { tag: string; histo: Histogram }
  | { tag: string; image: SummaryImage };

/** Serialises one Event; exactly one of fileVersion and values is given. */
export function encodeEvent(event: { wallTime: number; step: number; fileVersion?: string; values?: SummaryValue[] }): Uint8Array {
  // As protoc does for proto3: a zero step is left out (it reads back as 0).
  const message: Record<string, unknown> = { wall_time: event.wallTime };
  if (event.step !== 0) message.step = event.step;
  if (event.fileVersion !== undefined) message.file_version = event.fileVersion;
  if (event.values !== undefined) message.summary = { value: event.values };
  return EventType.encode(EventType.fromObject(message)).finish();
}
