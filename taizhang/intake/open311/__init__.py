"""Open311 GeoReport v2 at /open311/v2/: an adapter over the cases' actions layer.

Every view parses the request, calls one action (`do_open311_create`, or a read through the case
models) and renders the result as XML or JSON (the suffix of the resource chooses). Design decisions:

Services. One service per (mechanism, category) of every mechanism whose intake admits the role
`intake` (受理员) and that declares a channel for outside systems: `open311` (外部系统接入) if it has
one, else `hotline` (12345热线, where 311-style systems sit). The service_code is
`<mechanism>.<category>` (`demand.complaint`), service_name the category's name, group the
mechanism's name. Attributes are the mechanism's form fields that are marked `public: true` and that
no transition fills in (named in a transition's `fields`, `require[].fields` or `set_fields`): those
are staff work products (答复内容, 满意度), not what a reporter says. Internal fields (退单理由, 回访记录)
are never `public`, personal ones (来电人, 联系电话) neither; the latter are filled from the standard
POST parameters instead (first_name/last_name -> caller_name, phone -> caller_phone when the
mechanism declares them).

API key. `api_key` is an Open311 key (`taizhang open311 key create USERNAME [--division CODE]`,
stored as its hash; `keys.py`), sent as the `X-API-Key` header or the `api_key` form (or query)
parameter; two different keys in one request are 400. It is its own kind: the API's bearer tokens
are refused here (403 saying so) and an Open311 key is no bearer token for /api/v1 (401). Its person
must hold the `intake` role on a division containing `jurisdiction_id` (a division code, e.g. the
district LZQ; optional when the key is limited to a division, or its person is 受理员 on exactly one);
a key limited to a division files only there and below. A missing, wrong or revoked key, an API
token, or a person without that role there, is 403.

Location. lat/long, address_string or address_id is required. The case is filed at the deepest
division under the jurisdiction whose stored GeoJSON boundary contains lat/long; with no boundary
containing it, at the jurisdiction itself; a point outside the jurisdiction's own boundary is 400.

Idempotency. The Idempotency-Key of the create action is derived from everything the client sent
(the Open311 key's id, jurisdiction, service_code, lat, long, address, description, attributes,
media_url and the contact parameters): a retry of the same POST within the idempotency window
(`TAIZHANG_IDEMPOTENCY_HOURS`, 24 h) returns the case the first one created (200 instead of 201) and
never files a second one; after the window the same POST files a new case. The price: two truly
separate reports with identical content from the same key within the window are one case - a client
that means two must vary something (device_id or account_id suffice). The digest is never shown.

Tokens. The `token` a POST returns is random (32 bytes from `secrets`), made for the case the request
filed and stored with it (`Open311Request`): unique per request, derived from nothing a caller could
know, so only the client holding it can look the request up; a retry gets the same token.

Stored data. media_url (http/https, not downloaded), address_id, email, device_id and account_id go
into the case's `data` (media_url at `data.media_url`, the rest under `data.open311`).

Reading. GET requests, requests/{id} and servicerequestupdates need no key, so they show exactly what
the public ledger shows (`taizhang.intake.public`, rules in each mechanism's `public:` block): only
public items (no petition, no 企业自查 or 专项检查 finding; any other number is 404 like one that does
not exist), every text redacted with the people the case names masked, no reporter, caller, phone,
e-mail or media_url unless the mechanism publishes it. service_request_id is the case number. status
is `closed` for states of kind closed, else `open`; status_notes the last history row the ledger
shows, by its (public) name with the texts the ledger shows of it (a closing statement, the answer, a
rating comment — never other staff opinions); description the redacted report; address the place cut
to the community (the redacted address where the mechanism publishes `address`); lat/long rounded to
the mechanism's `public.location.decimals`; agency_responsible the responsible unit's name and
expected_datetime the current deadline where published (`unit`, `deadline`); service_notice the
state's public name. Dates are ISO 8601 with the offset (+08:00). GET requests defaults to the 90 days
before end_date (or now), newest first, at most 1000 rows.

servicerequestupdates (the FixMyStreet extension): `updated_after` (exclusive; or FixMyStreet's
`start_date`, inclusive) is required, with optional end_date, service_request_id and
jurisdiction_id. One update per history row the ledger shows, oldest first, at most 1000; update_id is the
row's hash. When the limit cuts a run of rows with the same timestamp, that run is left out whole,
so `updated_after=<last updated_datetime>` loses nothing.

Errors are the spec's list of {code, description} (XML: <errors><error>), code being the HTTP
status: 400 bad parameters (the actions' 422 field errors become 400, one error each), 403 api_key,
404 unknown service, request, token or jurisdiction_id, 405 a wrong method, 409 a conflict.
"""
