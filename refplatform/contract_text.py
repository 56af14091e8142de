"""The contract's prose: the ``info.description`` of ``docs/openapi.yaml`` (a module, not a data
file, so the frozen bundle serves the same document without packaging extra files)."""

INTRO = """\
The provincial platform's real interface is not public, so this is ours, written down and generated
from the types both sides use (`counter_app.sync.models`). The window (`counter_app.sync.PlatformClient`)
and the reference platform (`refplatform`) implement it; a real platform plugs in by writing one
adapter against the same client methods (each operation's `operationId`).

## Versioning
Everything lives under `/api/v1`. Additive changes (new optional fields, new endpoints) keep `v1`;
anything that changes the meaning of an existing field makes `/api/v2`, served side by side until
every window has moved. Answers may carry fields a window does not know; requests may not.

## Credentials and scope
IT enrols every credential with the platform, bound to **one center and one window** (role `window`)
or to one center and its supervisor (role `supervisor`, naming the supervisor's account). A window's
seal public key is registered with its credential at enrolment — never learnt from the first seal
seen — and every seal is checked against it. The credential travels as `Authorization: Bearer …`
and lives in the window's OS keyring. Only `GET /health` is open.
- The platform answers only about the caller's center: worklist, attachments, progress, ratings,
  listings and the center report. Another center's case or attachment is `404`, a request naming
  another center is `403 forbidden`.
- `POST /data-sharing/lookup` check `veteran_file` (the veteran's 档案: 退役类型, 入伍年月, 退出现役时间,
  政治面貌, 学历, 拟安置地, 入伍前户籍地址) is answered only to a window of the center that received
  the file; any other window gets `found: false` with a `note` saying the file is held elsewhere.
- A window writes only its own case numbers (`center-window-date-seq-check`): a first version
  with another window's number is `403`.
- A correction (version > 1) is accepted only from a window of the case's center, with
  `correction.approved_by` naming a supervisor enrolled for that center, inside the sealed part
  of the case, under a seal that verifies with the sending window's enrolled key
  (else `422 correction_not_approved`).
- `401` means the credential is missing, wrong or revoked: the window asks for a new one and
  sends nothing meanwhile; `403` means it is bound elsewhere (check the window's settings).

## The center
- Opening a worklist entry **claims** it for the window (`POST /worklist/{id}/claim`, 30 minutes,
  renewed by claiming again); cancelling releases it (`DELETE`). Another window's claim is
  `409 claimed_elsewhere` with `detail.window_no` ("正在X号窗口受理"), and the worklist shows it.
  A first version made from an online application (`online_application_id`) is refused the same
  way while another window holds its claim, or once another case has taken it.
- One open case per person (公民身份号码) across the province: a first version for a veteran who
  has an open case elsewhere is `409 person_has_open_case` with `detail.case_no`;
  `POST /persons/open-case` asks before the acceptance starts.
- `GET /center/report` gives the supervisor the center's figures (per window and clerk, items,
  statuses, overdue items, ratings) with names and ID numbers masked, and `as_of`.

## Exactly once
Every submission carries an `Idempotency-Key` (a UUID written in the same database transaction as
the case) and the case's business key `case_no/vN`. The payload's identity is its `content_digest`:
the SHA-256 of the canonical JSON (UTF-8, keys sorted, no spaces) of the sealed parts of the case
(`schema, case_no, version, supersedes, center_code, window_no, operator, finalized_at, application,
attachments`, and `correction` when present), which the platform recomputes.
- same key, same digest: the first answer again (`200`, header `Idempotent-Replayed: true`);
- same key, different digest: `422 idempotency_key_reused`;
- new key, business key already held with the same digest: recognised, first answer again;
- new key, business key held with a different digest: `409 business_key_conflict`.

## Errors and limits
Every error body is an `ErrorBody` with a Chinese `message` the window shows as it is; every status
an operation can answer is listed on it, and a method a path does not serve is `405` with `Allow`.
Retry (exponential backoff with full jitter, never sooner than `Retry-After`): network errors,
`408`, `429`, `5xx`. Data errors (`400`, `409` except `attachments_missing`, `413`, `422`): the case
goes to the window's quarantine lane and the queue goes on. `409 attachments_missing`: upload the
listed attachments, then resend. Bodies are limited while they arrive (2 MB of JSON, 20 MB per
attachment, streamed to disk), JSON nesting to 24 levels, numbers and pages to their ranges.

## Transport
HTTPS with certificate verification always on (the government extranet's CA bundle), with optional
pinning of the server certificate's SHA-256. Plain HTTP is accepted by the window only for a
platform on loopback (the reference platform in demos and tests).
"""
