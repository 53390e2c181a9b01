// A minimal, deterministic zip writer for FC code packages: the same files give byte-identical
// archives (entries sorted by name, fixed timestamps, fixed compression level), so a package never
// differs for reasons other than its content. Deflate when it saves space, else stored. No zip64:
// FC takes at most about 100 MB of code through its API, far below the 4 GiB limit of plain zip.
import { crc32, deflateRawSync } from "node:zlib";

export interface ZipEntry {
  /** Path inside the archive, `/`-separated, no leading slash. */
  name: string;
  data: Buffer;
  /** Unix permission bits (0o755 keeps an FC custom runtime's `bootstrap` executable). */
  mode: number;
  /** A symbolic link: `data` is its target (node_modules/.bin holds such links). */
  symlink?: boolean;
}

/** 1980-01-01 00:00:00, the earliest DOS date: the same for every build. */
const DOS_TIME = 0;
const DOS_DATE = (0 << 9) | (1 << 5) | 1;
const VERSION_NEEDED = 20;
/** Made by Unix (3), spec 2.0: readers take the mode from the high half of the external attributes. */
const VERSION_MADE_BY = (3 << 8) | 20;
const UTF8_NAMES = 1 << 11;
const LEVEL = 6;
const MAX_ENTRIES = 0xffff;
const MAX_SIZE = 0xffffffff;

export class ZipTooLargeError extends Error {}

export function writeZip(entries: ZipEntry[]): Buffer {
  if (entries.length > MAX_ENTRIES) throw new ZipTooLargeError(`${entries.length} files: a zip without zip64 holds at most ${MAX_ENTRIES}`);
  const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of sorted) {
    const name = Buffer.from(entry.name, "utf8");
    const deflated = deflateRawSync(entry.data, { level: LEVEL });
    const compress = deflated.length < entry.data.length;
    const body = compress ? deflated : entry.data;
    if (entry.data.length > MAX_SIZE || offset + body.length > MAX_SIZE) throw new ZipTooLargeError("the archive would exceed 4 GiB");
    const crc = crc32(entry.data);
    const method = compress ? 8 : 0;

    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(VERSION_NEEDED, 4);
    local.writeUInt16LE(UTF8_NAMES, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(DOS_TIME, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(entry.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    locals.push(local, name, body);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(VERSION_MADE_BY, 4);
    central.writeUInt16LE(VERSION_NEEDED, 6);
    central.writeUInt16LE(UTF8_NAMES, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(DOS_TIME, 12);
    central.writeUInt16LE(DOS_DATE, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(entry.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    // extra length, comment length, disk number, internal attributes: all 0
    central.writeUInt32LE((((entry.symlink ? 0o120000 : 0o100000) | (entry.mode & 0o7777)) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);

    offset += local.length + name.length + body.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(sorted.length, 8);
  end.writeUInt16LE(sorted.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}
