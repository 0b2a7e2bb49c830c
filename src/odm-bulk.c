/* libodm: bulk writes with an outcome per document (odm_insert_many, odm_bulk).
 *
 * Every document is prepared before anything is sent. Runs of inserts go to the server in
 * batches through libmongoc's bulk API; the reply's writeErrors say which documents the
 * server refused, and an error with no reply (the server went away mid-request) leaves the
 * batch in flight UNKNOWN, resolved by asking the server for the _ids (odm_bulk_verify). */
#include "odm-private.h"

#include <string.h>

#define DEFAULT_BATCH 1000
#define VERIFY_GROUP 500
/* Below this many bytes a batch is one command (MongoDB's 16 MB document limit and 48 MB
 * message): a server-selection failure then means nothing of it was sent. */
#define ONE_COMMAND_BYTES (16 * 1000 * 1000)

typedef struct {
   bson_t *doc;    /* insert: the encoded document; update, delete: the filter (heap: a bson_t
                    * cannot move in memory once it has grown) */
   bson_t *update; /* update: the operator update */
   odm_update_opts_t uo;
   bool multi;
} op_t;

struct _odm_bulk_t {
   odm_client_t *client;
   const odm_schema_t *schema;
   odm_write_opts_t opts;
   op_t *ops;
   odm_outcome_t *out;
   size_t count, cap;
   bool executed;
};

/* ------------------------------------------------------------------ results */

void
odm_bulk_result_cleanup (odm_bulk_result_t *r)
{
   size_t i;
   if (!r) {
      return;
   }
   for (i = 0; i < r->count; i++) {
      if (r->items[i].id.value_type != BSON_TYPE_EOD) {
         bson_value_destroy (&r->items[i].id);
      }
      odm_violations_cleanup (&r->items[i].violations);
   }
   bson_free (r->items);
   memset (r, 0, sizeof *r);
}

static void
tally (odm_bulk_result_t *r)
{
   size_t i;
   r->done = r->invalid = r->failed = r->unknown = r->not_sent = 0;
   for (i = 0; i < r->count; i++) {
      switch (r->items[i].status) {
      case ODM_OUTCOME_DONE: r->done++; break;
      case ODM_OUTCOME_INVALID: r->invalid++; break;
      case ODM_OUTCOME_FAILED: r->failed++; break;
      case ODM_OUTCOME_UNKNOWN: r->unknown++; break;
      case ODM_OUTCOME_NOT_SENT:
      default: r->not_sent++; break;
      }
   }
}

static void
outcome_init (odm_outcome_t *o, odm_op_kind_t kind)
{
   memset (o, 0, sizeof *o);
   o->kind = kind;
   o->status = ODM_OUTCOME_NOT_SENT;
   o->id.value_type = BSON_TYPE_EOD;
   odm_violations_init (&o->violations);
}

/* The first item that is not DONE, for the call's own error. */
static const odm_outcome_t *
first_problem (const odm_outcome_t *items, size_t n)
{
   size_t i;
   for (i = 0; i < n; i++) {
      if (items[i].status == ODM_OUTCOME_FAILED || items[i].status == ODM_OUTCOME_UNKNOWN ||
          items[i].status == ODM_OUTCOME_INVALID) {
         return &items[i];
      }
   }
   for (i = 0; i < n; i++) {
      if (items[i].status == ODM_OUTCOME_NOT_SENT && items[i].error.code) {
         return &items[i]; /* e.g. no server could be selected */
      }
   }
   return NULL;
}

/* ------------------------------------------------------------------ verify */

static bool
value_eq (const bson_value_t *a, const bson_value_t *b)
{
   if (a->value_type != b->value_type) {
      return false;
   }
   switch (a->value_type) {
   case BSON_TYPE_OID: return bson_oid_equal (&a->value.v_oid, &b->value.v_oid);
   case BSON_TYPE_UTF8:
      return a->value.v_utf8.len == b->value.v_utf8.len &&
             !memcmp (a->value.v_utf8.str, b->value.v_utf8.str, a->value.v_utf8.len);
   case BSON_TYPE_INT32: return a->value.v_int32 == b->value.v_int32;
   case BSON_TYPE_INT64: return a->value.v_int64 == b->value.v_int64;
   default: return false;
   }
}

/* Asks COLL which of ITEMS' UNKNOWN inserts it holds. */
static bool
verify_in (mongoc_collection_t *coll, const odm_session_t *session, odm_outcome_t *items, size_t n,
           bson_error_t *error)
{
   size_t i = 0;
   while (i < n) {
      size_t group[VERIFY_GROUP], g = 0, k;
      bool found[VERIFY_GROUP];
      bson_t filter = BSON_INITIALIZER, in, arr, opts = BSON_INITIALIZER, proj;
      mongoc_cursor_t *cur;
      const bson_t *d;
      bool ok;
      for (; i < n && g < VERIFY_GROUP; i++) {
         if (items[i].status == ODM_OUTCOME_UNKNOWN && items[i].kind == ODM_OP_INSERT &&
             items[i].id.value_type != BSON_TYPE_EOD) {
            group[g] = i;
            found[g++] = false;
         }
      }
      if (!g) {
         break;
      }
      BSON_APPEND_DOCUMENT_BEGIN (&filter, "_id", &in);
      BSON_APPEND_ARRAY_BEGIN (&in, "$in", &arr);
      for (k = 0; k < g; k++) {
         char key[16];
         const char *kp;
         odm_index_key ((uint32_t) k, &kp, key, sizeof key);
         bson_append_value (&arr, kp, -1, &items[group[k]].id);
      }
      bson_append_array_end (&in, &arr);
      bson_append_document_end (&filter, &in);
      BSON_APPEND_DOCUMENT_BEGIN (&opts, "projection", &proj);
      BSON_APPEND_INT32 (&proj, "_id", 1);
      bson_append_document_end (&opts, &proj);
      odm_session_append (session, &opts);
      cur = mongoc_collection_find_with_opts (coll, &filter, &opts, NULL);
      while (mongoc_cursor_next (cur, &d)) {
         bson_iter_t it;
         if (bson_iter_init_find (&it, d, "_id")) {
            for (k = 0; k < g; k++) {
               if (!found[k] && value_eq (bson_iter_value (&it), &items[group[k]].id)) {
                  found[k] = true;
                  break;
               }
            }
         }
      }
      ok = !mongoc_cursor_error (cur, error);
      mongoc_cursor_destroy (cur);
      bson_destroy (&filter);
      bson_destroy (&opts);
      if (!ok) {
         return false;
      }
      for (k = 0; k < g; k++) {
         odm_outcome_t *o = &items[group[k]];
         o->status = found[k] ? ODM_OUTCOME_DONE : ODM_OUTCOME_NOT_SENT;
         if (found[k]) {
            memset (&o->error, 0, sizeof o->error);
         } else {
            odm_set_error (&o->error, ODM_ERROR_NOT_FOUND, NULL,
                           "the request was lost with the server, and the server does not hold this _id");
         }
      }
   }
   return true;
}

bool
odm_bulk_verify (odm_client_t *client, const odm_schema_t *schema, odm_bulk_result_t *result, bson_error_t *error)
{
   mongoc_client_t *mc;
   mongoc_collection_t *coll;
   odm_outcome_t *copy;
   bool ok;
   if (!odm_check_client_args (client, schema, error)) {
      return false;
   }
   if (!result || !result->count) {
      return true;
   }
   /* on a copy of the statuses, so that a failure leaves RESULT unchanged */
   copy = bson_malloc (result->count * sizeof *copy);
   memcpy (copy, result->items, result->count * sizeof *copy);
   coll = odm_client_collection (client, schema, &mc);
   ok = verify_in (coll, NULL, copy, result->count, error);
   odm_client_release (client, coll, mc);
   if (ok) {
      size_t i;
      for (i = 0; i < result->count; i++) {
         result->items[i].status = copy[i].status;
         result->items[i].error = copy[i].error;
      }
      tally (result);
   }
   bson_free (copy);
   return ok;
}

/* ------------------------------------------------------------------ sending inserts */

static bool
lost_reply (const bson_error_t *e)
{
   return e->domain == MONGOC_ERROR_STREAM || e->domain == MONGOC_ERROR_SERVER_SELECTION ||
          e->domain == MONGOC_ERROR_CLIENT;
}

/* The program's post-save hooks (odm-hooks.h) on the acknowledged documents of a batch, as
 * odm_insert_one runs them. (Documents an UNKNOWN resolves to DONE later get none: their
 * write was not acknowledged.) */
static void
post_save (const odm_schema_t *schema, const odm_write_opts_t *o, op_t *ops, const odm_outcome_t *out,
           const size_t *chunk, size_t m)
{
   size_t k;
   for (k = 0; k < m; k++) {
      if (out[chunk[k]].status == ODM_OUTCOME_DONE) {
         odm_hooks_post_save_bson (schema, ops[chunk[k]].doc, false, o->now_ms ? o->now_ms : odm_now_ms ());
      }
   }
}

/* Sends the inserts IDX[0..N) of OPS in batches; fills their outcomes. Returns false when
 * the run must stop (an ordered failure, or the server went away). */
static bool
send_inserts (mongoc_collection_t *coll, const odm_schema_t *schema, const odm_write_opts_t *o, op_t *ops,
              odm_outcome_t *out, const size_t *idx, size_t n)
{
   size_t batch = o->batch_size ? o->batch_size : DEFAULT_BATCH;
   size_t start, k;
   bool go_on = true;

   for (start = 0; start < n && go_on; start += batch) {
      size_t m = n - start < batch ? n - start : batch, bytes = 0;
      const size_t *chunk = idx + start;
      bson_t bopts = BSON_INITIALIZER, reply;
      bson_error_t err;
      mongoc_bulk_operation_t *b;
      bool ok = true, any_write_error = false;
      bson_iter_t it, we;

      BSON_APPEND_BOOL (&bopts, "ordered", !o->unordered);
      if (o->mongoc_opts) {
         bson_copy_to_excluding_noinit (o->mongoc_opts, &bopts, "ordered", NULL);
      }
      odm_session_append (o->session, &bopts);
      b = mongoc_collection_create_bulk_operation_with_opts (coll, &bopts);
      bson_destroy (&bopts);
      for (k = 0; k < m && ok; k++) {
         bytes += ops[chunk[k]].doc->len;
         if (!mongoc_bulk_operation_insert_with_opts (b, ops[chunk[k]].doc, NULL, &err)) {
            out[chunk[k]].status = ODM_OUTCOME_FAILED;
            out[chunk[k]].error = err;
            ok = false;
         }
      }
      if (!ok) {
         /* libmongoc refused a document before sending: nothing of this batch went out */
         mongoc_bulk_operation_destroy (b);
         if (!o->unordered) {
            return false;
         }
         continue;
      }
      ok = mongoc_bulk_operation_execute (b, &reply, &err) != 0;
      mongoc_bulk_operation_destroy (b);
      if (ok) {
         for (k = 0; k < m; k++) {
            out[chunk[k]].status = ODM_OUTCOME_DONE;
         }
         post_save (schema, o, ops, out, chunk, m);
         bson_destroy (&reply);
         continue;
      }
      /* The server's verdict per document: writeErrors[].index (in this batch). */
      if (bson_iter_init_find (&it, &reply, "writeErrors") && BSON_ITER_HOLDS_ARRAY (&it) &&
          bson_iter_recurse (&it, &we)) {
         while (bson_iter_next (&we)) {
            bson_iter_t f;
            int64_t i = -1;
            uint32_t code = 0;
            const char *msg = "write error";
            if (!BSON_ITER_HOLDS_DOCUMENT (&we) || !bson_iter_recurse (&we, &f)) {
               continue;
            }
            while (bson_iter_next (&f)) {
               if (!strcmp (bson_iter_key (&f), "index") && BSON_ITER_HOLDS_NUMBER (&f)) {
                  i = bson_iter_as_int64 (&f);
               } else if (!strcmp (bson_iter_key (&f), "code") && BSON_ITER_HOLDS_NUMBER (&f)) {
                  code = (uint32_t) bson_iter_as_int64 (&f);
               } else if (!strcmp (bson_iter_key (&f), "errmsg") && BSON_ITER_HOLDS_UTF8 (&f)) {
                  msg = bson_iter_utf8 (&f, NULL);
               }
            }
            if (i >= 0 && (size_t) i < m) {
               odm_outcome_t *oc = &out[chunk[i]];
               oc->status = ODM_OUTCOME_FAILED;
               bson_set_error (&oc->error, MONGOC_ERROR_SERVER, code, "%s", msg);
               odm_map_duplicate_doc (schema, &oc->error, &oc->violations, coll, ops[chunk[i]].doc);
               any_write_error = true;
            }
         }
      }
      if (lost_reply (&err)) {
         /* The reply is lost: what was not refused may or may not be stored. A batch that
          * is one command and never found a server was not sent at all. */
         bool unsent = err.domain == MONGOC_ERROR_SERVER_SELECTION && bytes < ONE_COMMAND_BYTES && !any_write_error;
         for (k = 0; k < m; k++) {
            if (out[chunk[k]].status != ODM_OUTCOME_FAILED) {
               out[chunk[k]].status = unsent ? ODM_OUTCOME_NOT_SENT : ODM_OUTCOME_UNKNOWN;
               out[chunk[k]].error = err;
            }
         }
         go_on = false;
      } else if (any_write_error) {
         /* Ordered: the ones before the first refused are stored, the ones after not sent. */
         bool seen_error = false;
         for (k = 0; k < m; k++) {
            if (out[chunk[k]].status == ODM_OUTCOME_FAILED) {
               seen_error = true;
            } else if (o->unordered || !seen_error) {
               out[chunk[k]].status = ODM_OUTCOME_DONE;
            }
         }
         post_save (schema, o, ops, out, chunk, m);
         go_on = o->unordered;
         if (bson_iter_init_find (&it, &reply, "writeConcernErrors") && BSON_ITER_HOLDS_ARRAY (&it)) {
            bson_iter_t wc;
            if (bson_iter_recurse (&it, &wc) && bson_iter_next (&wc)) {
               go_on = false;
            }
         }
      } else if (err.domain == MONGOC_ERROR_WRITE_CONCERN) {
         /* written, but the write concern was not satisfied: DONE, with the error kept */
         for (k = 0; k < m; k++) {
            out[chunk[k]].status = ODM_OUTCOME_DONE;
            out[chunk[k]].error = err;
         }
         post_save (schema, o, ops, out, chunk, m);
         go_on = false;
      } else {
         /* the whole command was refused (by the server or by libmongoc): nothing stored */
         for (k = 0; k < m; k++) {
            out[chunk[k]].status = ODM_OUTCOME_FAILED;
            out[chunk[k]].error = err;
         }
         go_on = o->unordered;
      }
      bson_destroy (&reply);
   }
   return go_on;
}

/* Whether any of OUT[0..N) is UNKNOWN. */
static bool
any_unknown (const odm_outcome_t *out, size_t n)
{
   size_t i;
   for (i = 0; i < n; i++) {
      if (out[i].status == ODM_OUTCOME_UNKNOWN) {
         return true;
      }
   }
   return false;
}

/* ------------------------------------------------------------------ bulk */

static void
bulk_grow (odm_bulk_t *b)
{
   if (b->count == b->cap) {
      b->cap = b->cap ? b->cap * 2 : 16;
      b->ops = bson_realloc (b->ops, b->cap * sizeof *b->ops);
      b->out = bson_realloc (b->out, b->cap * sizeof *b->out);
   }
}

odm_bulk_t *
odm_bulk_new (odm_client_t *client, const odm_schema_t *schema, const odm_write_opts_t *opts, bson_error_t *error)
{
   odm_bulk_t *b;
   odm_write_opts_t o;
   if (!odm_opts_load (&o, sizeof o, opts, ODM_WRITE_OPTS_MIN, "odm_write_opts_t", error) ||
       !odm_check_client_args (client, schema, error) || !odm_check_session (client, o.session, o.mongoc_opts, error)) {
      return NULL;
   }
   b = bson_malloc0 (sizeof *b);
   b->client = client;
   b->schema = schema;
   b->opts = o;
   b->opts.result = NULL;
   return b;
}

static bool
bulk_usable (odm_bulk_t *b, bson_error_t *error)
{
   if (!b) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "bulk is NULL");
      return false;
   }
   if (b->executed) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "this bulk has run already");
      return false;
   }
   bulk_grow (b);
   return true;
}

/* Prepares DOC into a new insert operation at the end of B. */
static bool
add_insert (odm_bulk_t *b, void *doc, const char *prefix, odm_violations_t *all, bson_error_t *error)
{
   op_t *op;
   odm_outcome_t *oc;
   odm_prepare_opts_t po;
   bson_iter_t it;
   bool ok;
   bulk_grow (b);
   op = &b->ops[b->count];
   oc = &b->out[b->count];
   memset (op, 0, sizeof *op);
   outcome_init (oc, ODM_OP_INSERT);
   memset (&po, 0, sizeof po);
   po.now_ms = b->opts.now_ms;
   {
      bson_t enc;
      ok = odm_prepare_encode (b->schema, doc, &po, &enc, &oc->violations, NULL, &oc->error);
      op->doc = bson_new ();
      bson_concat (op->doc, &enc);
      bson_destroy (&enc);
   }
   if (ok && !bson_has_field (op->doc, ODM_VERSION_KEY)) {
      BSON_APPEND_INT32 (op->doc, ODM_VERSION_KEY, 0); /* a new document's version, as Mongoose starts it */
   }
   if (bson_iter_init_find (&it, op->doc, "_id")) {
      bson_value_copy (bson_iter_value (&it), &oc->id);
   } else if (*(const uint8_t *) ODM_AT_CONST (doc, b->schema->root->fields[0].presence) == ODM_PRESENT) {
      /* invalid, so not encoded: the _id odm_prepare gave it */
      oc->id.value_type = BSON_TYPE_OID;
      bson_oid_copy (ODM_AT_CONST (doc, b->schema->root->fields[0].offset), &oc->id.value.v_oid);
   }
   if (!ok) {
      size_t i;
      oc->status = ODM_OUTCOME_INVALID;
      if (oc->error.domain != ODM_ERROR_DOMAIN || !oc->error.code) {
         odm_violations_to_error (&oc->violations, &oc->error);
      }
      if (all) {
         for (i = 0; i < oc->violations.count; i++) {
            char path[ODM_PATH_MAX];
            bson_snprintf (path, sizeof path, "%s%s", prefix, oc->violations.items[i].path);
            odm_violations_add (all, path, oc->violations.items[i].rule, oc->violations.items[i].message);
         }
      }
      if (error) {
         *error = oc->error;
      }
   }
   b->count++;
   return ok;
}

bool
odm_bulk_insert (odm_bulk_t *b, void *doc, bson_error_t *error)
{
   if (!bulk_usable (b, error)) {
      return false;
   }
   if (!doc) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "doc is NULL");
      return false;
   }
   return add_insert (b, doc, "", NULL, error);
}

bool
odm_bulk_update (odm_bulk_t *b, const bson_t *filter, const bson_t *update, const odm_update_opts_t *opts,
                 bson_error_t *error)
{
   op_t *op;
   odm_outcome_t *oc;
   bson_error_t e;
   if (!bulk_usable (b, error)) {
      return false;
   }
   op = &b->ops[b->count];
   oc = &b->out[b->count];
   memset (op, 0, sizeof *op);
   outcome_init (oc, ODM_OP_UPDATE);
   if (!odm_opts_load (&op->uo, sizeof op->uo, opts, ODM_UPDATE_OPTS_MIN, "odm_update_opts_t", error)) {
      return false;
   }
   op->uo.result = NULL;
   if (!op->uo.mongoc_opts) {
      op->uo.mongoc_opts = b->opts.mongoc_opts;
   }
   if (!op->uo.now_ms) {
      op->uo.now_ms = b->opts.now_ms;
   }
   if (!op->uo.session) {
      op->uo.session = b->opts.session;
   }
   op->doc = filter ? bson_copy (filter) : bson_new ();
   op->update = update ? bson_copy (update) : bson_new ();
   b->count++;
   odm_violations_cleanup (&oc->violations);
   if (!update || !odm_update_plan (b->schema, update, NULL, NULL, &oc->violations, &e)) {
      if (!update) {
         odm_set_error (&e, ODM_ERROR_INVALID_ARGUMENT, NULL, "update is NULL");
      }
      oc->status = ODM_OUTCOME_INVALID;
      oc->error = e;
      if (error) {
         *error = e;
      }
      return false;
   }
   if (op->uo.checked_filter) {
      odm_violations_t fv;
      if (!odm_filter_check (b->schema, op->doc, &fv)) {
         size_t i;
         for (i = 0; i < fv.count; i++) {
            odm_violations_add (&oc->violations, fv.items[i].path, fv.items[i].rule, fv.items[i].message);
         }
         odm_violations_to_error (&fv, &oc->error);
         oc->status = ODM_OUTCOME_INVALID;
         if (error) {
            *error = oc->error;
         }
         odm_violations_cleanup (&fv);
         return false;
      }
      odm_violations_cleanup (&fv);
   }
   return true;
}

bool
odm_bulk_delete (odm_bulk_t *b, const bson_t *filter, bool multi, bson_error_t *error)
{
   op_t *op;
   if (!bulk_usable (b, error)) {
      return false;
   }
   op = &b->ops[b->count];
   memset (op, 0, sizeof *op);
   outcome_init (&b->out[b->count], ODM_OP_DELETE);
   op->doc = filter ? bson_copy (filter) : bson_new ();
   op->multi = multi;
   b->count++;
   return true;
}

/* The status of an update or delete that returned ERROR. */
static odm_outcome_status_t
status_of (const bson_error_t *e)
{
   if (e->domain == ODM_ERROR_DOMAIN) {
      switch (e->code) {
      case ODM_ERROR_DUPLICATE_KEY:
      case ODM_ERROR_CONFLICT:
      case ODM_ERROR_NOT_FOUND: return ODM_OUTCOME_FAILED;
      default: return ODM_OUTCOME_INVALID;
      }
   }
   return lost_reply (e) ? ODM_OUTCOME_UNKNOWN : ODM_OUTCOME_FAILED;
}

/* Runs B's operations (all of them, or the valid ones when unordered). */
static void
run (odm_bulk_t *b)
{
   size_t i = 0, *idx = bson_malloc ((b->count ? b->count : 1) * sizeof *idx);
   mongoc_client_t *mc;
   mongoc_collection_t *coll = odm_client_collection_for (b->client, b->opts.session, b->schema, &mc);
   bool go_on = true;

   while (i < b->count && go_on) {
      odm_outcome_t *oc = &b->out[i];
      op_t *op = &b->ops[i];
      if (oc->status == ODM_OUTCOME_INVALID) {
         i++; /* unordered: skipped */
         continue;
      }
      if (oc->kind == ODM_OP_INSERT) {
         size_t n = 0;
         while (i < b->count && b->out[i].kind == ODM_OP_INSERT) {
            if (b->out[i].status != ODM_OUTCOME_INVALID) {
               idx[n++] = i;
            }
            i++;
         }
         go_on = send_inserts (coll, b->schema, &b->opts, b->ops, b->out, idx, n);
         continue;
      }
      if (oc->kind == ODM_OP_UPDATE) {
         odm_update_result_t res;
         odm_update_opts_t uo = op->uo;
         uo.result = &res;
         if (odm_update (b->client, b->schema, op->doc, op->update, &uo, &oc->matched, &oc->violations,
                         &oc->error)) {
            oc->status = ODM_OUTCOME_DONE;
            oc->modified = res.modified;
         } else {
            oc->status = status_of (&oc->error);
         }
      } else {
         odm_delete_opts_t dopts = ODM_DELETE_OPTS_INIT;
         dopts.multi = op->multi;
         dopts.mongoc_opts = b->opts.mongoc_opts;
         dopts.session = b->opts.session;
         oc->status = odm_delete_with_opts (b->client, b->schema, op->doc, &dopts, &oc->deleted, &oc->error)
                         ? ODM_OUTCOME_DONE
                         : status_of (&oc->error);
      }
      if (oc->status != ODM_OUTCOME_DONE && (!b->opts.unordered || oc->status == ODM_OUTCOME_UNKNOWN)) {
         go_on = false;
      }
      i++;
   }
   if (any_unknown (b->out, b->count)) {
      bson_error_t ignore;
      verify_in (coll, b->opts.session, b->out, b->count, &ignore); /* once; the caller can retry with odm_bulk_verify */
   }
   odm_client_release_for (b->client, b->opts.session, coll, mc);
   bson_free (idx);
}

/* Hands B's outcomes to RESULT (or frees them), sets ERROR from the first problem. */
static bool
finish (odm_bulk_t *b, odm_bulk_result_t *result, bson_error_t *error)
{
   odm_bulk_result_t r = {b->out, b->count, 0, 0, 0, 0, 0};
   const odm_outcome_t *bad;
   tally (&r);
   bad = first_problem (b->out, b->count);
   if (bad && error) {
      *error = bad->error;
   } else if (!bad && r.not_sent && error) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "operations were not sent");
   }
   if (result) {
      *result = r;
   } else {
      odm_bulk_result_cleanup (&r);
   }
   b->out = NULL;
   return r.done == r.count;
}

bool
odm_bulk_execute (odm_bulk_t *b, odm_bulk_result_t *result, bson_error_t *error)
{
   size_t i;
   bool invalid = false;
   if (result) {
      memset (result, 0, sizeof *result);
   }
   if (!bulk_usable (b, error)) {
      return false;
   }
   b->executed = true;
   for (i = 0; i < b->count; i++) {
      invalid = invalid || b->out[i].status == ODM_OUTCOME_INVALID;
   }
   if (!invalid || b->opts.unordered) {
      run (b);
   }
   return finish (b, result, error);
}

void
odm_bulk_destroy (odm_bulk_t *b)
{
   size_t i;
   if (!b) {
      return;
   }
   for (i = 0; i < b->count; i++) {
      bson_destroy (b->ops[i].doc);
      bson_destroy (b->ops[i].update);
   }
   if (b->out) {
      odm_bulk_result_t r = {b->out, b->count, 0, 0, 0, 0, 0};
      odm_bulk_result_cleanup (&r);
   }
   bson_free (b->ops);
   bson_free (b);
}

/* ------------------------------------------------------------------ insert_many */

bool
odm_insert_many (odm_client_t *client, const odm_schema_t *schema, void *docs, size_t n,
                 const odm_write_opts_t *opts, odm_violations_t *violations, bson_error_t *error)
{
   odm_violations_t local;
   odm_violations_t *v = violations ? violations : &local;
   odm_write_opts_t o;
   odm_bulk_t *b = NULL;
   odm_bulk_result_t r;
   bool ok = false, invalid = false;
   size_t i;

   odm_violations_init (v);
   memset (&r, 0, sizeof r);
   if (!odm_opts_load (&o, sizeof o, opts, ODM_WRITE_OPTS_MIN, "odm_write_opts_t", error)) {
      goto done;
   }
   if (o.result) {
      memset (o.result, 0, sizeof *o.result);
   }
   if (n && !docs) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "docs is NULL");
      goto done;
   }
   if (!(b = odm_bulk_new (client, schema, &o, error))) {
      goto done;
   }
   if (n == 0) {
      ok = true;
      goto done;
   }
   for (i = 0; i < n; i++) {
      char prefix[32] = "";
      if (n > 1) {
         bson_snprintf (prefix, sizeof prefix, "%zu.", i);
      }
      if (!add_insert (b, (char *) docs + i * schema->root->size, prefix, v, NULL)) {
         invalid = true;
      }
   }
   b->executed = true;
   if (!invalid || o.unordered) {
      run (b);
   }
   ok = finish (b, &r, error);
   if (invalid && !ok && !r.failed && !r.unknown && error && error->domain == ODM_ERROR_DOMAIN &&
       error->code == ODM_ERROR_VALIDATION) {
      odm_violations_to_error (v, error); /* every document's violations, prefixed by its index */
   }
   for (i = 0; i < r.count; i++) {
      const odm_outcome_t *oc = &r.items[i];
      size_t k;
      if (oc->status != ODM_OUTCOME_FAILED) {
         continue;
      }
      for (k = 0; k < oc->violations.count; k++) {
         char path[ODM_PATH_MAX];
         if (n > 1) {
            bson_snprintf (path, sizeof path, "%zu.%s", i, oc->violations.items[k].path);
         } else {
            bson_snprintf (path, sizeof path, "%s", oc->violations.items[k].path);
         }
         odm_violations_add (v, path, oc->violations.items[k].rule, oc->violations.items[k].message);
      }
   }
done:
   if (o.size && o.result) {
      *o.result = r;
   } else {
      odm_bulk_result_cleanup (&r);
   }
   odm_bulk_destroy (b);
   if (v == &local) {
      odm_violations_cleanup (&local);
   }
   return ok;
}
