/*
 * anxin_auth: a Mosquitto 2.0 plugin (plugin interface v5) that makes Anxin the broker's MQTT
 * authentication and ACL backend, over EMQX 5.8's HTTP authentication contract:
 *
 *   POST authn_url  {"clientid", "username", "password", "peerhost"}
 *   200 {"result": "allow"|"deny"|"ignore", "is_superuser": bool,
 *        "acl": [{"permission": "allow"|"deny", "action": "publish"|"subscribe"|"all", "topic": "a/b/#"}]}
 *
 * The rules come back with the login, so every later ACL check is answered from memory: no HTTP call per
 * PUBLISH, SUBSCRIBE or delivery. See README.md for the options and the behaviour on failure.
 *
 * Mosquitto runs its plugins on its one network thread, so the HTTP call at login blocks the whole broker
 * for its duration: that is why the timeout is short and the connection to Anxin is kept alive.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>

#define MAX_RESPONSE (64 * 1024)
#define DEFAULT_TIMEOUT_MS 3000L

/* what a rule's action covers */
#define ACT_PUBLISH 1u
#define ACT_SUBSCRIBE 2u

struct rule {
	bool allow;
	unsigned actions;
	const char *topic; /* inside the entry's allocation */
};

/* One authenticated client's rules. Entry, rules and topic strings are one allocation: one free. */
struct entry {
	struct entry *next; /* hash chain */
	const struct mosquitto *client;
	bool superuser;
	size_t nrules;
	struct rule *rules;
};

/*
 * All state lives here and travels as the callbacks' userdata, not in globals: with per_listener_settings
 * the broker initialises the plugin once per listener, and dlopen() of one path hands every instance the
 * same globals.
 */
struct state {
	mosquitto_plugin_id_t *id;
	CURL *curl; /* one easy handle for every request: libcurl keeps the connection to Anxin alive */
	struct curl_slist *headers;
	char response[MAX_RESPONSE + 1];
	size_t response_len;
	bool response_too_big;
	struct entry **buckets; /* chained hash table keyed by the client pointer; power-of-two size */
	size_t nbuckets;
	size_t count;
	/*
	 * The entry of the client that disconnected last, out of the table but not yet freed. Mosquitto 2.0
	 * fires MOSQ_EVT_DISCONNECT *before* it checks the client's will against the ACL (context__disconnect:
	 * plugin__handle_disconnect, then context__send_will); freeing at once would refuse every will. It is
	 * freed at the next DISCONNECT or at the end of this loop iteration (MOSQ_EVT_TICK), before the broker
	 * frees the client structure, so its address cannot be reused while the entry is still around.
	 */
	struct entry *retired;
};

/* ---- hash table ------------------------------------------------------------------------------------ */

static size_t bucket_of(const struct state *st, const struct mosquitto *client)
{
	/* heap addresses share their low bits (alignment) and often their high bits: mix them all (the
	 * 64-bit finaliser of MurmurHash3) before keeping the low ones */
	uint64_t x = (uint64_t)(uintptr_t)client;
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return (size_t)(x & (st->nbuckets - 1));
}

static struct entry *table_find(const struct state *st, const struct mosquitto *client)
{
	struct entry *e;
	for(e = st->buckets[bucket_of(st, client)]; e; e = e->next){
		if(e->client == client) return e;
	}
	if(st->retired && st->retired->client == client) return st->retired;
	return NULL;
}

/* Unlinks the client's entry and returns it (NULL if it has none). */
static struct entry *table_take(struct state *st, const struct mosquitto *client)
{
	struct entry **p;
	for(p = &st->buckets[bucket_of(st, client)]; *p; p = &(*p)->next){
		if((*p)->client == client){
			struct entry *e = *p;
			*p = e->next;
			st->count--;
			return e;
		}
	}
	return NULL;
}

/* Doubles the bucket array once there are more entries than buckets, so chains stay short. */
static void table_grow(struct state *st)
{
	size_t n = st->nbuckets * 2, i;
	struct entry **b = mosquitto_calloc(n, sizeof(*b));
	struct entry **old = st->buckets;
	size_t old_n = st->nbuckets;

	if(!b) return; /* keep the longer chains; still correct */
	st->buckets = b;
	st->nbuckets = n;
	for(i = 0; i < old_n; i++){
		struct entry *e = old[i], *next;
		for(; e; e = next){
			size_t k = bucket_of(st, e->client);
			next = e->next;
			e->next = b[k];
			b[k] = e;
		}
	}
	mosquitto_free(old);
}

/* Adds the entry, replacing (and freeing) any entry the client already had. */
static void table_put(struct state *st, struct entry *e)
{
	size_t k;
	mosquitto_free(table_take(st, e->client));
	if(st->count >= st->nbuckets) table_grow(st);
	k = bucket_of(st, e->client);
	e->next = st->buckets[k];
	st->buckets[k] = e;
	st->count++;
}

static void table_free(struct state *st)
{
	size_t i;
	for(i = 0; i < st->nbuckets; i++){
		struct entry *e = st->buckets[i], *next;
		for(; e; e = next){
			next = e->next;
			mosquitto_free(e);
		}
	}
	mosquitto_free(st->buckets);
	st->buckets = NULL;
	st->count = 0;
	mosquitto_free(st->retired);
	st->retired = NULL;
}

/* ---- topic matching ---------------------------------------------------------------------------------- */

/*
 * True when every topic `filter` can match is also matched by `allowed` (MQTT wildcards), level by level.
 * Same answers as filterWithin in gateway/transports/mqtt-acl.ts. Each pointer is at the start of its
 * current level, NULL once its last level has been used ("a/" has two levels, "a" and "").
 */
static bool level_is(const char *level, size_t len, char c)
{
	return len == 1 && level[0] == c;
}

static bool filter_within(const char *filter, const char *allowed)
{
	const char *f = filter, *a = allowed;

	if(filter[0] == '$') return false; /* $SYS and other broker topics are never granted by a pattern */
	for(;;){
		size_t fl, al;
		/* "x/#" also matches "x" itself, so this holds when the filter has ended too */
		if(a && level_is(a, strcspn(a, "/"), '#')) return true;
		if(!f || !a) return f == a;
		fl = strcspn(f, "/");
		al = strcspn(a, "/");
		if(level_is(f, fl, '#')) return false;
		if(level_is(f, fl, '+') && !level_is(a, al, '+')) return false;
		if(!level_is(a, al, '+') && (fl != al || memcmp(f, a, fl) != 0)) return false;
		f = f[fl] ? f + fl + 1 : NULL;
		a = a[al] ? a + al + 1 : NULL;
	}
}

static bool topic_matches(const char *rule_topic, const char *topic)
{
	bool match = false;
	if(mosquitto_topic_matches_sub(rule_topic, topic, &match) != MOSQ_ERR_SUCCESS) return false;
	return match;
}

/* ---- the response's rules -------------------------------------------------------------------------------- */

/* Checks one rule of the "acl" list; NULL when usable, else what is wrong with it (for the log). */
static const char *check_rule(const cJSON *r, bool *allow, unsigned *actions, const char **topic)
{
	const cJSON *perm, *act, *top;

	if(!cJSON_IsObject(r)) return "a rule is not an object";
	perm = cJSON_GetObjectItemCaseSensitive(r, "permission");
	act = cJSON_GetObjectItemCaseSensitive(r, "action");
	top = cJSON_GetObjectItemCaseSensitive(r, "topic");
	if(!cJSON_IsString(perm)) return "a rule has no permission";
	if(!strcmp(perm->valuestring, "allow")) *allow = true;
	else if(!strcmp(perm->valuestring, "deny")) *allow = false;
	else return "a rule's permission is not allow or deny";
	if(!cJSON_IsString(act)) return "a rule has no action";
	if(!strcmp(act->valuestring, "publish")) *actions = ACT_PUBLISH;
	else if(!strcmp(act->valuestring, "subscribe")) *actions = ACT_SUBSCRIBE;
	else if(!strcmp(act->valuestring, "all")) *actions = ACT_PUBLISH | ACT_SUBSCRIBE;
	else return "a rule's action is not publish, subscribe or all";
	if(!cJSON_IsString(top) || mosquitto_sub_topic_check(top->valuestring) != MOSQ_ERR_SUCCESS){
		return "a rule's topic is not a valid topic filter";
	}
	/*
	 * EMQX features this plugin does not implement. Ignoring them would change what a rule means (a deny
	 * rule meant for QoS 2 only would deny nothing, an "eq a/#" rule would match a/x), so a response that
	 * uses them is refused as a whole rather than half understood.
	 */
	if(cJSON_GetObjectItemCaseSensitive(r, "qos") || cJSON_GetObjectItemCaseSensitive(r, "retain")){
		return "a rule has a qos or retain condition (not supported)";
	}
	if(!strncmp(top->valuestring, "eq ", 3) || strstr(top->valuestring, "${")){
		return "a rule's topic uses an eq prefix or a ${placeholder} (not supported)";
	}
	*topic = top->valuestring;
	return NULL;
}

/* Builds the client's entry from an "allow" response; NULL with *why set if the rules are unusable. */
static struct entry *entry_from(const struct mosquitto *client, const cJSON *resp, const char **why)
{
	const cJSON *acl = cJSON_GetObjectItemCaseSensitive(resp, "acl");
	const cJSON *list = cJSON_IsArray(acl) ? acl : NULL;
	const cJSON *r;
	size_t n = 0, strings = 0, i = 0;
	struct entry *e;
	char *text;

	/* no "acl" (or null): no rules, so everything but a superuser's access is refused */
	if(acl && !cJSON_IsNull(acl) && !cJSON_IsArray(acl)){
		*why = "acl is not a list";
		return NULL;
	}
	cJSON_ArrayForEach(r, list){
		bool allow;
		unsigned actions;
		const char *topic;
		if((*why = check_rule(r, &allow, &actions, &topic)) != NULL) return NULL;
		n++;
		strings += strlen(topic) + 1;
	}

	/* sizeof(struct entry) is a multiple of its pointer alignment, which is all struct rule needs */
	e = mosquitto_malloc(sizeof(*e) + n * sizeof(struct rule) + strings);
	if(!e){
		*why = "out of memory";
		return NULL;
	}
	e->next = NULL;
	e->client = client;
	e->superuser = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(resp, "is_superuser"));
	e->nrules = n;
	e->rules = (struct rule *)(e + 1);
	text = (char *)(e->rules + n);
	cJSON_ArrayForEach(r, list){
		const char *topic = NULL;
		size_t len;
		check_rule(r, &e->rules[i].allow, &e->rules[i].actions, &topic);
		len = strlen(topic) + 1;
		memcpy(text, topic, len);
		e->rules[i].topic = text;
		text += len;
		i++;
	}
	return e;
}

/* ---- HTTP ----------------------------------------------------------------------------------------------- */

static size_t on_response_data(char *data, size_t size, size_t nmemb, void *userp)
{
	struct state *st = userp;
	size_t n = size * nmemb; /* size is always 1 */

	if(n > MAX_RESPONSE - st->response_len){
		st->response_too_big = true;
		return 0; /* anything but n aborts the transfer (CURLE_WRITE_ERROR) */
	}
	memcpy(st->response + st->response_len, data, n);
	st->response_len += n;
	return n;
}

/* The request body. cJSON escapes the strings; the client chose all of them but peerhost. */
static char *request_body(const struct mosquitto *client, const char *username, const char *password)
{
	cJSON *o = cJSON_CreateObject();
	const char *id = mosquitto_client_id(client);
	const char *host = mosquitto_client_address(client);
	char *s = NULL;

	if(o && cJSON_AddStringToObject(o, "clientid", id ? id : "")
			&& cJSON_AddStringToObject(o, "username", username ? username : "")
			&& cJSON_AddStringToObject(o, "password", password ? password : "")
			&& cJSON_AddStringToObject(o, "peerhost", host ? host : "")){
		s = cJSON_PrintUnformatted(o);
	}
	cJSON_Delete(o);
	return s;
}

/* ---- callbacks --------------------------------------------------------------------------------------------- */

static int on_basic_auth(int event, void *event_data, void *userdata)
{
	struct mosquitto_evt_basic_auth *ed = event_data;
	struct state *st = userdata;
	const char *id = mosquitto_client_id(ed->client);
	const char *why = NULL;
	char *body;
	CURLcode rc;
	long status = 0;
	cJSON *resp = NULL;
	const cJSON *result;
	struct entry *e;
	int ret;

	(void)event;
	if(!id) id = "";
	/* rules kept for a persistent session whose structure this address once was (on_disconnect) are not this
	 * client's: drop them before anything else, whatever the answer */
	mosquitto_free(table_take(st, ed->client));
	/* every Anxin account has a password: nothing to ask */
	if(!ed->username || !ed->password) return MOSQ_ERR_AUTH;

	body = request_body(ed->client, ed->username, ed->password);
	if(!body){
		mosquitto_log_printf(MOSQ_LOG_WARNING, "anxin_auth: client '%s': out of memory building the request", id);
		return MOSQ_ERR_NOMEM;
	}
	st->response_len = 0;
	st->response_too_big = false;
	curl_easy_setopt(st->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(st->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	rc = curl_easy_perform(st->curl);
	curl_easy_setopt(st->curl, CURLOPT_POSTFIELDS, NULL); /* the handle must not keep a pointer to freed memory */
	cJSON_free(body);
	if(rc == CURLE_OK) curl_easy_getinfo(st->curl, CURLINFO_RESPONSE_CODE, &status);

	/*
	 * Anxin unreachable, slow or answering nonsense is not a wrong password: MOSQ_ERR_UNKNOWN makes the
	 * broker close the connection without a "not authorised" CONNACK, and the device retries later.
	 */
	if(rc != CURLE_OK){
		mosquitto_log_printf(MOSQ_LOG_WARNING, "anxin_auth: client '%s' not checked, Anxin unavailable: %s",
				id, st->response_too_big ? "response larger than 64 KiB" : curl_easy_strerror(rc));
		return MOSQ_ERR_UNKNOWN;
	}
	if(status != 200){
		mosquitto_log_printf(MOSQ_LOG_WARNING, "anxin_auth: client '%s' not checked, Anxin answered HTTP %ld", id, status);
		return MOSQ_ERR_UNKNOWN;
	}
	st->response[st->response_len] = '\0';
	resp = cJSON_ParseWithLength(st->response, st->response_len);
	result = cJSON_IsObject(resp) ? cJSON_GetObjectItemCaseSensitive(resp, "result") : NULL;
	if(!cJSON_IsString(result)){
		why = resp ? "no result" : "not JSON";
		ret = MOSQ_ERR_UNKNOWN;
	}else if(!strcmp(result->valuestring, "deny") || !strcmp(result->valuestring, "ignore")){
		mosquitto_log_printf(MOSQ_LOG_INFO, "anxin_auth: client '%s' (username '%s') refused: %s",
				id, ed->username, result->valuestring);
		ret = MOSQ_ERR_AUTH;
	}else if(strcmp(result->valuestring, "allow") != 0){
		why = "result is not allow, deny or ignore";
		ret = MOSQ_ERR_UNKNOWN;
	}else if((e = entry_from(ed->client, resp, &why)) == NULL){
		ret = MOSQ_ERR_UNKNOWN;
	}else{
		table_put(st, e);
		mosquitto_log_printf(MOSQ_LOG_DEBUG, "anxin_auth: client '%s' (username '%s') allowed, %s%zu rule(s)",
				id, ed->username, e->superuser ? "superuser, " : "", e->nrules);
		ret = MOSQ_ERR_SUCCESS;
	}
	if(why){
		mosquitto_log_printf(MOSQ_LOG_WARNING, "anxin_auth: client '%s' not checked, unusable answer from Anxin: %s", id, why);
	}
	cJSON_Delete(resp);
	return ret;
}

static int on_acl_check(int event, void *event_data, void *userdata)
{
	struct mosquitto_evt_acl_check *ed = event_data;
	struct state *st = userdata;
	const char *topic = ed->topic;
	const struct entry *e;
	unsigned need;
	size_t i;

	(void)event;
#ifdef MOSQ_ACL_UNSUBSCRIBE
	if(ed->access == MOSQ_ACL_UNSUBSCRIBE) return MOSQ_ERR_SUCCESS; /* dropping a subscription grants nothing */
#endif
	e = table_find(st, ed->client);
	if(!e) return MOSQ_ERR_ACL_DENIED;
	if(e->superuser) return MOSQ_ERR_SUCCESS;

	switch(ed->access){
		case MOSQ_ACL_WRITE: /* the client publishes to topic */
			need = ACT_PUBLISH;
			break;
		case MOSQ_ACL_READ: /* a message on topic is about to be delivered to the client */
		case MOSQ_ACL_SUBSCRIBE: /* the client subscribes with filter topic */
			need = ACT_SUBSCRIBE;
			break;
		default:
			return MOSQ_ERR_ACL_DENIED;
	}
	if(ed->access == MOSQ_ACL_SUBSCRIBE && !strncmp(topic, "$share/", 7)){
		/* a shared subscription "$share/group/filter" is judged by its filter; without a second '/' the
		 * '$' left in front refuses it */
		const char *slash = strchr(topic + 7, '/');
		if(slash) topic = slash + 1;
	}

	/* the first rule for this action whose topic matches decides */
	for(i = 0; i < e->nrules; i++){
		const struct rule *r = &e->rules[i];
		bool match;
		if(!(r->actions & need)) continue;
		/* a subscription can match many topics: it is allowed only if all of them are */
		match = ed->access == MOSQ_ACL_SUBSCRIBE ? filter_within(topic, r->topic) : topic_matches(r->topic, topic);
		if(match) return r->allow ? MOSQ_ERR_SUCCESS : MOSQ_ERR_ACL_DENIED;
	}
	return MOSQ_ERR_ACL_DENIED;
}

static int on_disconnect(int event, void *event_data, void *userdata)
{
	struct mosquitto_evt_disconnect *ed = event_data;
	struct state *st = userdata;

	(void)event;
	/*
	 * A persistent session (clean session 0) stays in the broker after its client goes, and Mosquitto checks
	 * each message it queues for it (a READ check): without its rules they would all be dropped, and Anxin's
	 * own session would lose the uplinks that come while Anxin restarts. So its rules stay in the table until
	 * it logs in again (on_basic_auth replaces them). Mosquitto 2.0 does not tell plugins when such a session
	 * expires: the entry then stays until a new client takes its address, and that client is checked by
	 * on_basic_auth before anything else. The memory is bounded by the persistent sessions there have been.
	 */
	if(!mosquitto_client_clean_session(ed->client)) return MOSQ_ERR_SUCCESS;
	/* kept for the will check that follows this event (see struct state) */
	mosquitto_free(st->retired);
	st->retired = table_take(st, ed->client);
	return MOSQ_ERR_SUCCESS;
}

static int on_tick(int event, void *event_data, void *userdata)
{
	struct state *st = userdata;

	(void)event;
	(void)event_data;
	mosquitto_free(st->retired);
	st->retired = NULL;
	return MOSQ_ERR_SUCCESS;
}

/* ---- plugin entry points ---------------------------------------------------------------------------------------- */

int mosquitto_plugin_version(int supported_version_count, const int *supported_versions)
{
	int i;
	for(i = 0; i < supported_version_count; i++){
		if(supported_versions[i] == 5) return 5;
	}
	return -1;
}

static void state_free(struct state *st)
{
	if(!st) return;
	table_free(st);
	curl_slist_free_all(st->headers);
	if(st->curl) curl_easy_cleanup(st->curl);
	curl_global_cleanup();
	free(st);
}

static const struct {
	int event;
	MOSQ_FUNC_generic_callback cb;
} callbacks[] = {
	{MOSQ_EVT_BASIC_AUTH, on_basic_auth},
	{MOSQ_EVT_ACL_CHECK, on_acl_check},
	{MOSQ_EVT_DISCONNECT, on_disconnect},
	{MOSQ_EVT_TICK, on_tick},
};
#define NCALLBACKS (sizeof(callbacks) / sizeof(callbacks[0]))

static void unregister_all(struct state *st, size_t n)
{
	size_t i;
	for(i = 0; i < n; i++) mosquitto_callback_unregister(st->id, callbacks[i].event, callbacks[i].cb, NULL);
}

int mosquitto_plugin_init(mosquitto_plugin_id_t *identifier, void **userdata, struct mosquitto_opt *options, int option_count)
{
	const char *url = NULL, *token = NULL;
	long timeout_ms = DEFAULT_TIMEOUT_MS;
	struct state *st;
	char *auth_header;
	size_t auth_len, i;
	int k;

	for(k = 0; k < option_count; k++){
		if(!strcmp(options[k].key, "authn_url")) url = options[k].value;
		else if(!strcmp(options[k].key, "token")) token = options[k].value;
		else if(!strcmp(options[k].key, "timeout_ms")){
			char *end;
			timeout_ms = strtol(options[k].value, &end, 10);
			if(end == options[k].value || *end != '\0' || timeout_ms < 1 || timeout_ms > 600000){
				mosquitto_log_printf(MOSQ_LOG_ERR, "anxin_auth: plugin_opt_timeout_ms must be a number of milliseconds, 1 to 600000");
				return MOSQ_ERR_INVAL;
			}
		}
	}
	if(!url || !*url){
		mosquitto_log_printf(MOSQ_LOG_ERR, "anxin_auth: plugin_opt_authn_url is required (e.g. http://127.0.0.1:8080/api/mqtt/authn)");
		return MOSQ_ERR_INVAL;
	}
	if(!token || !*token){
		mosquitto_log_printf(MOSQ_LOG_ERR, "anxin_auth: plugin_opt_token is required (sent as Authorization: Bearer <token>)");
		return MOSQ_ERR_INVAL;
	}

	/* plain calloc: 64 KiB of response buffer need not count against the broker's memory_limit */
	st = calloc(1, sizeof(*st));
	if(!st) return MOSQ_ERR_NOMEM;
	st->id = identifier;
	if(curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK){
		free(st);
		return MOSQ_ERR_UNKNOWN;
	}
	st->nbuckets = 256;
	st->buckets = mosquitto_calloc(st->nbuckets, sizeof(*st->buckets));
	st->curl = curl_easy_init();
	auth_len = strlen("Authorization: Bearer ") + strlen(token) + 1;
	auth_header = malloc(auth_len);
	if(auth_header){
		snprintf(auth_header, auth_len, "Authorization: Bearer %s", token);
		st->headers = curl_slist_append(NULL, "Content-Type: application/json");
		if(st->headers) st->headers = curl_slist_append(st->headers, auth_header);
		/* libcurl would otherwise wait for "100 Continue" before sending a large body */
		if(st->headers) st->headers = curl_slist_append(st->headers, "Expect:");
		free(auth_header);
	}
	if(!st->buckets || !st->curl || !st->headers){
		state_free(st);
		return MOSQ_ERR_NOMEM;
	}

	curl_easy_setopt(st->curl, CURLOPT_URL, url);
	curl_easy_setopt(st->curl, CURLOPT_HTTPHEADER, st->headers);
	curl_easy_setopt(st->curl, CURLOPT_POST, 1L);
	curl_easy_setopt(st->curl, CURLOPT_WRITEFUNCTION, on_response_data);
	curl_easy_setopt(st->curl, CURLOPT_WRITEDATA, st);
	curl_easy_setopt(st->curl, CURLOPT_TIMEOUT_MS, timeout_ms);
	/* no SIGALRM for DNS timeouts: signals belong to the broker */
	curl_easy_setopt(st->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(st->curl, CURLOPT_USERAGENT, "anxin-auth-mosquitto/1");
#if LIBCURL_VERSION_NUM >= 0x075500
	/* an authn_url of file:// or the like is a mistake, not a backend */
	curl_easy_setopt(st->curl, CURLOPT_PROTOCOLS_STR, "http,https");
#endif

	for(i = 0; i < NCALLBACKS; i++){
		if(mosquitto_callback_register(st->id, callbacks[i].event, callbacks[i].cb, NULL, st) != MOSQ_ERR_SUCCESS){
			mosquitto_log_printf(MOSQ_LOG_ERR, "anxin_auth: cannot register callback for event %d", callbacks[i].event);
			unregister_all(st, i);
			state_free(st);
			return MOSQ_ERR_UNKNOWN;
		}
	}
	*userdata = st;
	mosquitto_log_printf(MOSQ_LOG_INFO, "anxin_auth: checking logins at %s (timeout %ld ms)", url, timeout_ms);
	return MOSQ_ERR_SUCCESS;
}

int mosquitto_plugin_cleanup(void *userdata, struct mosquitto_opt *options, int option_count)
{
	struct state *st = userdata;

	(void)options;
	(void)option_count;
	if(!st) return MOSQ_ERR_SUCCESS;
	unregister_all(st, NCALLBACKS);
	state_free(st);
	return MOSQ_ERR_SUCCESS;
}
