// Test helper: every event of a TensorBoard event file, decoded with protobufjs into plain objects.
import { EventType } from '../../src/track/event_proto';
import { readTfRecordFile } from './tfrecord_reader';

export interface DecodedEvent {
  wall_time: number;
  step: number;
  file_version?: string;
  summary?: { value: Array<{ tag: string; simple_value?: number; histo?: Record<string, number | number[]>; image?: { height: number; width: number; colorspace: number; encoded_image_string: Buffer } }> };
}

export function decodeEventFile(file: string): { events: DecodedEvent[]; tornBytes: number } {
  const { records, tornBytes } = readTfRecordFile(file);
  const events = records.map((record) => EventType.toObject(EventType.decode(record), { longs: Number, defaults: false }) as DecodedEvent);
  return { events, tornBytes };
}

/** tag → [step, value] of every scalar. */
export function scalarsOf(events: DecodedEvent[]): Map<string, [number, number][]> {
  const out = new Map<string, [number, number][]>();
  for (const event of events) {
    for (const value of event.summary?.value ?? []) {
      if (value.simple_value === undefined) continue;
      if (!out.has(value.tag)) out.set(value.tag, []);
      out.get(value.tag)!.push([event.step ?? 0, value.simple_value]);
    }
  }
  return out;
}
