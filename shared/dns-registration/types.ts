// The contracts of DNS registration (issue 19 part 1): what a cluster asks to have published in a
// zone, the TSIG key it signs with, and what a register/deregister call reports. The agent and
// the plugin program against these shapes; the wire code lives beside them (tsig.ts,
// update-message.ts, transport.ts, registrar.ts).

/** RFC 8945 §6 HMAC algorithms; hmac-sha256 is the default (BIND's tsig-keygen default too). */
export type TsigAlgorithm =
  'hmac-sha256' | 'hmac-sha1' | 'hmac-sha224' | 'hmac-sha384' | 'hmac-sha512' | 'hmac-md5';

export const TSIG_ALGORITHMS: readonly TsigAlgorithm[] = [
  'hmac-sha256',
  'hmac-sha1',
  'hmac-sha224',
  'hmac-sha384',
  'hmac-sha512',
  'hmac-md5',
];
export const DEFAULT_TSIG_ALGORITHM: TsigAlgorithm = 'hmac-sha256';

export interface TsigKey {
  /** The key's name as the server knows it (BIND: `key "<name>" { ... }`), e.g. "liqo-cluster-a". */
  name: string;
  algorithm: TsigAlgorithm;
  /** The shared secret in base64, as `tsig-keygen` prints it and a Secret would hold it. */
  secret: string;
}

/**
 * Which DNS-SD layouts to publish (SPEC §2 "DNS"): the discovery guide's bare-domain one
 * (`<zone> PTR <instance>.<zone>`) and RFC 6763's (`_liqo._tcp.<zone> PTR <instance>._liqo._tcp.<zone>`).
 */
export type DnsLayout = 'guide' | 'rfc6763';
export const DNS_LAYOUTS: readonly DnsLayout[] = ['guide', 'rfc6763'];

/** What one cluster publishes in one zone. */
export interface RegistrationSpec {
  /** The zone (e.g. "example.com"): the SearchDomain / `--domain` peers search. */
  zone: string;
  /** One DNS label (letters, digits, "-"), e.g. the cluster name. */
  instance: string;
  /** `https://<host>[:<port>]` where this cluster's /ids is served; no path. */
  authUrl: string;
  /** Written into the TXT (`id=`) and the ownership record. */
  clusterId: string;
  /** Written into the TXT (`name=`) when given. */
  clusterName?: string;
  /** Seconds, for every record. */
  ttl: number;
  /** Default both. */
  layouts?: readonly DnsLayout[];
  /** Also publish `b._dns-sd._udp` and `lb._dns-sd._udp` PTR <zone> (RFC 6763 §11); default false. */
  browseDomains?: boolean;
  /**
   * When the auth URL's host is a name inside the zone: its addresses to publish as A/AAAA
   * (then that name's A/AAAA RRsets belong to this registration). Ignored otherwise.
   */
  targetAddresses?: readonly string[];
}

export interface SrvData {
  priority: number;
  weight: number;
  port: number;
  /** Host name without the trailing dot. */
  target: string;
}

interface RecordBase {
  /** Owner name: lower-case, without the trailing dot. */
  name: string;
  ttl: number;
}

/** One resource record this library publishes (class IN). */
export type PublishedRecord =
  | (RecordBase & { type: 'PTR'; data: string })
  | (RecordBase & { type: 'SRV'; data: SrvData })
  | (RecordBase & { type: 'TXT'; data: string[] })
  | (RecordBase & { type: 'A' | 'AAAA'; data: string });

export type PublishedRecordType = PublishedRecord['type'];

/** The records of one registration, and which of them are ours alone. */
export interface RecordPlan {
  zone: string;
  /** Every record to publish, the ownership record included, in a stable order. */
  records: PublishedRecord[];
  /** The ownership TXT (`_liqo-owner.<instance>.<zone>`); the prerequisite of every change. */
  owner: PublishedRecord & { type: 'TXT' };
  /**
   * Names whose SRV, TXT, A and AAAA RRsets belong to this registration entirely: both instance
   * names (whichever layouts are on) and an in-zone target we publish addresses for.
   */
  ownedNames: string[];
  /** PTRs in RRsets other clusters share: added and removed one record at a time. */
  shared: PublishedRecord[];
}

/** The RFC 9664 Update Lease EDNS(0) option: the server may drop the records after `seconds`. */
export interface UpdateLease {
  seconds: number;
  /** KEY-LEASE (for SRP's KEY record); sent only when given. */
  keySeconds?: number;
}

export interface RegistrarOptions {
  /** The zone's primary: an IP address with an optional port, e.g. "10.0.0.53:53" or "[fd00::53]". */
  server: string;
  key: TsigKey;
  /** Sent with every UPDATE when set (RFC 9664). */
  lease?: UpdateLease;
  /** Per UDP try; default 2000. */
  timeoutMs?: number;
  /** UDP tries per message; default 3. */
  tries?: number;
  /** Bound on the whole call, every message and retry included; default 10000. */
  deadlineMs?: number;
  /** TSIG fudge in seconds (RFC 8945 §5.2.3); default 300. */
  fudgeSeconds?: number;
  /** The clock for TSIG "time signed", ms since the epoch; default Date.now (tests move it). */
  now?: () => number;
  signal?: AbortSignal;
}

/** RFC 2136 §2.2 / RFC 1035 response codes, by name. */
export type RcodeName =
  | 'NOERROR'
  | 'FORMERR'
  | 'SERVFAIL'
  | 'NXDOMAIN'
  | 'NOTIMP'
  | 'REFUSED'
  | 'YXDOMAIN'
  | 'YXRRSET'
  | 'NXRRSET'
  | 'NOTAUTH'
  | 'NOTZONE'
  | `RCODE${number}`;

/** RFC 8945 §3 TSIG error codes a server may put in its TSIG record. */
export type TsigErrorName = 'BADSIG' | 'BADKEY' | 'BADTIME' | 'BADTRUNC' | `TSIG${number}`;

export type RegistrationAction =
  /** Records written where there were none. */
  | 'created'
  /**
   * Our ownership record was there as expected; our record sets were replaced by the desired
   * ones in one UPDATE. A new IP address or port lands here too: the owned names are the same.
   */
  | 'refreshed'
  /**
   * Our ownership record was there with other content (the target moved to or from an in-zone
   * host, whose A/AAAA we own): old records replaced by new in one UPDATE conditioned on it.
   */
  | 'moved'
  /** deregister: our records are gone. */
  | 'removed'
  /** deregister: there was nothing of ours to remove. */
  | 'absent';

export interface RegistrationSuccess {
  ok: true;
  action: RegistrationAction;
  zone: string;
  /** What is published now (empty after deregister). */
  records: PublishedRecord[];
  /** UPDATE messages answered (a steady-state refresh is 1). */
  updates: number;
  /** Every request/response exchange with the server, queries included. */
  exchanges: number;
}

export type RegistrationFailureReason =
  /** The spec or options cannot be used (message names the field). */
  | 'invalid'
  /** The ownership record names another cluster (`owner` holds its cluster id). */
  | 'owned-by-other'
  /** Our names exist in the zone without an ownership record: someone manages them by hand. */
  | 'name-in-use'
  /** The server answered with an error RCODE (`rcode`). */
  | 'rcode'
  /** TSIG failed: the server refused our signature (`tsigError`), or its answer is unsigned or forged. */
  | 'tsig'
  /** No answer within the bounds, or the connection was refused. */
  | 'unreachable'
  /** The answer cannot be parsed or does not belong to the request. */
  | 'bad-response';

export interface RegistrationFailure {
  ok: false;
  reason: RegistrationFailureReason;
  /** One line for a condition or a terminal: what failed, on what, what to do. */
  message: string;
  zone: string;
  rcode?: RcodeName;
  tsigError?: TsigErrorName;
  /** The owning cluster's id, for 'owned-by-other'. */
  owner?: string;
  updates: number;
  exchanges: number;
}

export type RegistrationResult = RegistrationSuccess | RegistrationFailure;

/** deregister needs only what names the records; the rest, when given, saves a round trip. */
export type DeregistrationSpec = Pick<RegistrationSpec, 'zone' | 'instance' | 'clusterId'> &
  Partial<RegistrationSpec>;
