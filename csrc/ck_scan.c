/* consentkit's native tokenizer scan; see ck_scan.h for the contract. */
#include "ck_scan.h"

#include <stdlib.h>
#include <string.h>

/* Byte classes: 1 whitespace (tab, LF, FF, CR, space); 2 ends a tag name (whitespace, "/", ">");
 * 4 an ASCII letter. */
static const uint8_t CLASS[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 3, 0, 3, 3, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0,
    0, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 0, 0, 0, 0, 0,
    0, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

#define LOWER(c) ((uint8_t)((c) >= 'A' && (c) <= 'Z' ? (c) | 0x20 : (c)))
#define IS_ALPHA(c) (CLASS[(uint8_t)(c)] & 4)
#define IS_WS(c) (CLASS[(uint8_t)(c)] & 1)
/* Ends a tag name: [\t\n\f\r />] */
#define IS_DELIM(c) (CLASS[(uint8_t)(c)] & 2)

static const uint8_t DATA_CONSENT[] = "data-consent";
#define DATA_CONSENT_LEN 12

/* --- configuration ------------------------------------------------------------------------ */

static void pool_free(uint8_t **pool, size_t **off, size_t **len, int32_t **next) {
    free(*pool);
    free(*off);
    free(*len);
    free(*next);
    *pool = NULL;
    *off = NULL;
    *len = NULL;
    *next = NULL;
}

/* Copy `count` byte strings into one pool with offsets, lengths and first-byte chains. */
static int pool_init(size_t count, const uint8_t *const *items, const size_t *lens, int lower,
                     uint8_t **pool, size_t **off, size_t **len, int32_t **next, int32_t head[256]) {
    size_t total = 0;
    for (size_t k = 0; k < count; k++) {
        total += lens[k];
    }
    *pool = malloc(total ? total : 1);
    *off = malloc(sizeof(size_t) * (count ? count : 1));
    *len = malloc(sizeof(size_t) * (count ? count : 1));
    *next = malloc(sizeof(int32_t) * (count ? count : 1));
    if (*pool == NULL || *off == NULL || *len == NULL || *next == NULL) {
        pool_free(pool, off, len, next);
        return -2;
    }
    for (int b = 0; b < 256; b++) {
        head[b] = -1;
    }
    size_t at = 0;
    for (size_t k = 0; k < count; k++) {
        for (size_t j = 0; j < lens[k]; j++) {
            (*pool)[at + j] = lower ? LOWER(items[k][j]) : items[k][j];
        }
        (*off)[k] = at;
        (*len)[k] = lens[k];
        at += lens[k];
    }
    /* chains in reverse so that each keeps the given order */
    for (size_t k = count; k-- > 0;) {
        uint8_t first = (*pool)[(*off)[k]];
        (*next)[k] = head[first];
        head[first] = (int32_t)k;
    }
    return 0;
}

int ck_nameset_init(ck_nameset *set, size_t count, const uint8_t *const *names, const size_t *lens) {
    memset(set, 0, sizeof(*set));
    if (count == 0 || count > CK_MAX_NAMES) {
        return -1;
    }
    size_t maxlen = 0;
    for (size_t k = 0; k < count; k++) {
        size_t n = lens[k];
        if (n == 0 || n > CK_MAX_NAME_LEN || names[k][0] < 'a' || names[k][0] > 'z') {
            return -1;
        }
        for (size_t j = 0; j < n; j++) {
            uint8_t c = names[k][j];
            if ((c >= 'A' && c <= 'Z') || IS_DELIM(c)) {
                return -1;
            }
        }
        if (n > maxlen) {
            maxlen = n;
        }
    }
    int rc = pool_init(count, names, lens, 0, &set->pool, &set->off, &set->len, &set->next, set->head);
    if (rc != 0) {
        return rc;
    }
    set->count = count;
    set->maxlen = maxlen;
    return 0;
}

void ck_nameset_free(ck_nameset *set) {
    pool_free(&set->pool, &set->off, &set->len, &set->next);
    set->count = 0;
}

int ck_filter_init(ck_filter *f, size_t count, const uint8_t *const *needles, const size_t *lens,
                   const uint8_t *stop_bytes, size_t stop_len) {
    memset(f, 0, sizeof(*f));
    if (count > CK_MAX_NEEDLES) {
        return -1;
    }
    for (size_t k = 0; k < count; k++) {
        if (lens[k] == 0 || lens[k] > CK_MAX_NEEDLE_LEN) {
            return -1;
        }
    }
    int rc = pool_init(count, needles, lens, 1, &f->pool, &f->off, &f->len, &f->next, f->head);
    if (rc != 0) {
        return rc;
    }
    f->count = count;
    for (size_t j = 0; j < stop_len; j++) {
        f->stop[stop_bytes[j]] = 1;
    }
    for (size_t k = 0; k < count; k++) {
        const uint8_t *s = f->pool + f->off[k];
        if (f->len[k] == 1) {
            /* a one-byte needle is a stop byte in both cases */
            f->stop[s[0]] = 1;
            if (s[0] >= 'a' && s[0] <= 'z') {
                f->stop[s[0] - 0x20] = 1;
            }
        } else {
            unsigned pair = ((unsigned)s[0] << 8) | s[1];
            f->pair[pair >> 3] |= (uint8_t)(1u << (pair & 7));
            f->gate[s[0]] |= 2;
            if (s[0] >= 'a' && s[0] <= 'z') {
                f->gate[s[0] - 0x20] |= 2;
            }
        }
    }
    for (int b = 0; b < 256; b++) {
        if (f->stop[b]) {
            f->gate[b] |= 1;
        }
    }
    return 0;
}

void ck_filter_free(ck_filter *f) {
    pool_free(&f->pool, &f->off, &f->len, &f->next);
    f->count = 0;
    if (f->exempt.count) {
        ck_nameset_free(&f->exempt);
    }
}

int ck_filter_exempt(ck_filter *f, size_t count, const uint8_t *const *names, const size_t *lens) {
    if (f->exempt.count) {
        return -1; /* set once */
    }
    return count == 0 ? 0 : ck_nameset_init(&f->exempt, count, names, lens);
}

/* Is s[0..len) (any case) one of the set's names? The set may be empty. (name_in below walks
 * the same chain for a name ended by a delimiter; it keeps its own loop so that the scan's
 * candidate check stays inlined: sharing one helper cost ~3% more instructions per byte.) */
static int name_is(const uint8_t *s, size_t len, const ck_nameset *set) {
    if (set->count == 0 || len == 0 || len > set->maxlen) {
        return 0;
    }
    for (int32_t k = set->head[LOWER(s[0])]; k >= 0; k = set->next[k]) {
        if (set->len[k] != len) {
            continue;
        }
        const uint8_t *name = set->pool + set->off[k];
        size_t m = 1; /* the chain is the first byte's */
        while (m < len && LOWER(s[m]) == name[m]) {
            m++;
        }
        if (m == len) {
            return 1;
        }
    }
    return 0;
}

int ck_filter_hits(const ck_filter *f, const uint8_t *v, size_t n) {
    for (size_t j = 0; j < n; j++) {
        uint8_t gate = f->gate[v[j]];
        if (gate == 0) {
            continue; /* most bytes: neither a stop byte nor where a needle can start */
        }
        if (gate & 1) {
            return 1;
        }
        if (j + 1 >= n) {
            break;
        }
        uint8_t a = LOWER(v[j]);
        unsigned pair = ((unsigned)a << 8) | LOWER(v[j + 1]);
        if (!(f->pair[pair >> 3] & (1u << (pair & 7)))) {
            continue;
        }
        for (int32_t k = f->head[a]; k >= 0; k = f->next[k]) {
            size_t len = f->len[k];
            if (len < 2 || len > n - j) {
                continue;
            }
            const uint8_t *s = f->pool + f->off[k];
            size_t m = 0;
            while (m < len && LOWER(v[j + m]) == s[m]) {
                m++;
            }
            if (m == len) {
                return 1;
            }
        }
    }
    return 0;
}

/* --- scanning ------------------------------------------------------------------------------ */

/* Is the name starting at buf[s] (up to the first delimiter, which must exist) in the set? */
static int name_in(const uint8_t *buf, size_t n, size_t s, const ck_nameset *set) {
    if (s >= n) {
        return 0;
    }
    size_t e = s;
    size_t limit = set->maxlen;
    while (e < n && e - s <= limit && !IS_DELIM(buf[e])) {
        e++;
    }
    if (e >= n || e - s > limit || !IS_DELIM(buf[e])) {
        return 0; /* no delimiter yet, or longer than every name */
    }
    size_t len = e - s;
    for (int32_t k = set->head[LOWER(buf[s])]; k >= 0; k = set->next[k]) {
        if (set->len[k] != len) {
            continue;
        }
        const uint8_t *name = set->pool + set->off[k];
        size_t m = 1;
        while (m < len && LOWER(buf[s + m]) == name[m]) {
            m++;
        }
        if (m == len) {
            return 1;
        }
    }
    return 0;
}

/* Does a delimiter follow the name that starts at buf[s]? (Every tag is a candidate then.) */
static int any_name(const uint8_t *buf, size_t n, size_t s) {
    size_t e = s + 1;
    while (e < n && !IS_DELIM(buf[e])) {
        e++;
    }
    return e < n;
}

/* Is there a candidate construct at buf[k] == '<'? Returns 0, CK_TAG or CK_DECL. */
static int candidate_at(const uint8_t *buf, size_t n, size_t k, const ck_cands *cands) {
    if (k + 1 >= n) {
        return 0;
    }
    uint8_t c = buf[k + 1];
    if (c == '!' || c == '?') {
        return CK_DECL;
    }
    if (c == '/') {
        if (k + 2 >= n) {
            return 0;
        }
        if (!IS_ALPHA(buf[k + 2])) {
            return CK_DECL;
        }
        if (cands->any_tag) {
            return any_name(buf, n, k + 2) ? CK_TAG : 0;
        }
        return name_in(buf, n, k + 2, &cands->ends) ? CK_TAG : 0;
    }
    if (cands->any_tag) {
        return IS_ALPHA(c) && any_name(buf, n, k + 1) ? CK_TAG : 0;
    }
    if (cands->all_starts_but) {
        return IS_ALPHA(c) && any_name(buf, n, k + 1) && !name_in(buf, n, k + 1, &cands->starts) ? CK_TAG : 0;
    }
    return name_in(buf, n, k + 1, &cands->starts) ? CK_TAG : 0;
}

/* ASCII case-insensitive: do the n bytes at s equal the lower-case literal? */
static int ci_eq(const uint8_t *s, size_t n, const char *lit) {
    for (size_t j = 0; j < n; j++) {
        /* stop at the literal's end: a NUL in s must not match it and read past it */
        if (lit[j] == 0 || LOWER(s[j]) != (uint8_t)lit[j]) {
            return 0;
        }
    }
    return lit[n] == 0;
}

static const char *const DATA_WORDS[] = {
    "src", "bg", "background", "poster", "lazy", "original", "image", "img", "url", "echo", "href",
};

/* CK_ATTENTION_NAMES: an attribute name that names a category or a refresh (2) or may fetch (1). */
static int attention_name(const uint8_t *s, size_t n) {
    switch (n) {
    case 3:
        return ci_eq(s, n, "src");
    case 4:
        return ci_eq(s, n, "ping");
    case 5:
        return ci_eq(s, n, "style");
    case 10:
        if (ci_eq(s, n, "http-equiv")) {
            return 2;
        }
        if (ci_eq(s, n, "background")) {
            return 1;
        }
        break;
    case 12:
        if (ci_eq(s, n, "data-consent")) {
            return 2;
        }
        break;
    default:
        break;
    }
    if (n <= 5 || !ci_eq(s, 5, "data-")) {
        return 0;
    }
    for (size_t w = 0; w < sizeof(DATA_WORDS) / sizeof(DATA_WORDS[0]); w++) {
        size_t len = strlen(DATA_WORDS[w]);
        for (size_t j = 5; j + len <= n; j++) {
            if (ci_eq(s + j, len, DATA_WORDS[w])) {
                return 1;
            }
        }
    }
    return 0;
}

/* Does "data-consent" (any case) start somewhere in buf[from..to)? It may not run past n. */
static int has_data_consent(const uint8_t *buf, size_t n, size_t from, size_t to) {
    for (size_t j = from; j < to; j++) {
        if ((buf[j] | 0x20) != 'd' || n - j < DATA_CONSENT_LEN) {
            continue;
        }
        size_t m = 1;
        while (m < DATA_CONSENT_LEN && LOWER(buf[j + m]) == DATA_CONSENT[m]) {
            m++;
        }
        if (m == DATA_CONSENT_LEN) {
            return 1;
        }
    }
    return 0;
}

/* The tag at buf[k] == '<' (followed by a letter or "/" + letter), with the tokenizer's exact
 * attribute quoting. Returns the position after its ">", or 0 if it is incomplete. Sets *hit
 * when `filter` is given, the tag is a start tag and one of its attribute values hits it, or
 * when `names` is set and an attribute name is an attention name. */
static size_t tag_end(const uint8_t *buf, size_t n, size_t k, const ck_filter *filter, int names, int *hit) {
    size_t pos = k + 1;
    int start = 1;
    if (buf[pos] == '/') {
        start = 0;
        pos++;
    }
    pos++; /* the letter */
    while (pos < n && !IS_DELIM(buf[pos])) {
        pos++;
    }
    /* with NAMES_FILTERED and a filter, only names of level 2 stop by themselves */
    int level = names == CK_ATTENTION_NAMES_FILTERED && filter != NULL ? 2 : 1;
    if (!start) {
        filter = NULL;
    }
    while (pos < n) {
        uint8_t c = buf[pos];
        if (c == '>') {
            return pos + 1;
        }
        if (IS_WS(c) || c == '/') {
            pos++;
            continue;
        }
        /* an attribute name: [^\t\n\f\r />][^\t\n\f\r /=>]* */
        size_t name = pos;
        pos++;
        while (pos < n && !IS_DELIM(buf[pos]) && buf[pos] != '=') {
            pos++;
        }
        size_t name_len = pos - name;
        if (names && !*hit && pos < n && attention_name(buf + name, name_len) >= level) {
            *hit = 1;
        }
        size_t p = pos;
        while (p < n && IS_WS(buf[p])) {
            p++;
        }
        if (p >= n || buf[p] != '=') {
            /* no value: whatever follows the name is the next separator or ">" */
            pos = p;
            continue;
        }
        p++;
        while (p < n && IS_WS(buf[p])) {
            p++;
        }
        if (p >= n) {
            return 0;
        }
        uint8_t v = buf[p];
        size_t vs;
        size_t ve;
        if (v == '"' || v == '\'') {
            const uint8_t *close = memchr(buf + p + 1, v, n - p - 1);
            if (close == NULL) {
                return 0;
            }
            vs = p + 1;
            ve = (size_t)(close - buf);
            pos = ve + 1;
        } else if (v == '>') {
            vs = ve = p;
            pos = p;
        } else {
            vs = p;
            ve = p + 1;
            while (ve < n && !IS_WS(buf[ve]) && buf[ve] != '>') {
                ve++;
            }
            pos = ve;
        }
        if (filter != NULL && !*hit && !name_is(buf + name, name_len, &filter->exempt) &&
            ck_filter_hits(filter, buf + vs, ve - vs)) {
            *hit = 1;
        }
    }
    return 0;
}

size_t ck_read_tag(const uint8_t *buf, size_t n, size_t k, size_t *name_end) {
    if (k + 1 >= n || buf[k] != '<') {
        return 0;
    }
    size_t s = k + 1;
    if (buf[s] == '/') {
        s++;
    }
    if (s >= n || !IS_ALPHA(buf[s])) {
        return 0;
    }
    int hit = 0;
    size_t end = tag_end(buf, n, k, NULL, 0, &hit);
    if (end == 0) {
        return 0;
    }
    size_t e = s + 1;
    while (e < end && !IS_DELIM(buf[e])) {
        e++;
    }
    *name_end = e;
    return end;
}

/* Does the tag buf[k..end) hold a "<" after its first byte (in a value, say)? An island's tags
 * never do, so that what a scan skips never holds a "<!" or "<?" outside raw text. */
static int has_lt(const uint8_t *buf, size_t k, size_t end) {
    return memchr(buf + k + 1, '<', end - k - 1) != NULL;
}

/* The end of the complete tag at buf[k] when it holds no "<" after its first byte, else 0. */
static size_t island_tag_end(const uint8_t *buf, size_t n, size_t k) {
    int hit = 0;
    size_t end = tag_end(buf, n, k, NULL, 0, &hit);
    return end == 0 || has_lt(buf, k, end) ? 0 : end;
}

/* Does buf[from..to) hold "/", "\\", ":", "&", "srcdoc" or "data-consent" (any case)? */
static int svg_urlish(const uint8_t *buf, size_t from, size_t to) {
    for (size_t j = from; j < to; j++) {
        uint8_t c = buf[j];
        if (c == '/' || c == '\\' || c == ':' || c == '&') {
            return 1;
        }
        if (to - j >= 6 && ci_eq(buf + j, 6, "srcdoc")) {
            return 1;
        }
        if (to - j >= DATA_CONSENT_LEN && ci_eq(buf + j, DATA_CONSENT_LEN, "data-consent")) {
            return 1;
        }
    }
    return 0;
}

/* One attribute of a complete start tag, as tag_end reads it. */
typedef struct {
    size_t name, name_end; /* the name: buf[name..name_end) */
    size_t vs, ve;         /* the value: buf[vs..ve) (empty when there is none) */
    int has_value, quoted;
    int slash;             /* a "/" stood between attributes (or before ">") */
    int bad;               /* the tag is not as tag_end completed it (cannot happen) */
} ck_attr;

/* The next attribute of a complete start tag from pos (stop: the position of its ">"): the
 * position after it, or 0 when there is none (a->slash then tells whether a "/" was seen). */
static size_t next_attr(const uint8_t *buf, size_t stop, size_t pos, ck_attr *a) {
    a->slash = 0;
    a->bad = 0;
    while (pos < stop && (IS_WS(buf[pos]) || buf[pos] == '/')) {
        a->slash |= buf[pos] == '/';
        pos++;
    }
    if (pos >= stop) {
        return 0;
    }
    a->name = pos;
    pos++;
    while (pos < stop && !IS_DELIM(buf[pos]) && buf[pos] != '=') {
        pos++;
    }
    a->name_end = pos;
    a->vs = a->ve = pos;
    a->has_value = a->quoted = 0;
    size_t p = pos;
    while (p < stop && IS_WS(buf[p])) {
        p++;
    }
    if (p >= stop || buf[p] != '=') {
        return p;
    }
    p++;
    while (p < stop && IS_WS(buf[p])) {
        p++;
    }
    a->has_value = 1;
    if (p < stop && (buf[p] == '"' || buf[p] == '\'')) {
        const uint8_t *close = memchr(buf + p + 1, buf[p], stop - p - 1);
        if (close == NULL) {
            a->bad = 1;
            return 0;
        }
        a->vs = p + 1;
        a->ve = (size_t)(close - buf);
        a->quoted = 1;
        return a->ve + 1;
    }
    a->vs = a->ve = p;
    while (a->ve < stop && !IS_WS(buf[a->ve])) {
        a->ve++;
    }
    return a->ve;
}

/* The attributes of the complete <svg> start tag buf[k..end) (buf[end - 1] is its ">"): is the
 * tag inert (see ck_svg_island)? */
static int svg_tag_inert(const uint8_t *buf, size_t k, size_t end) {
    size_t stop = end - 1;
    size_t pos = k + 4;
    ck_attr a;
    while ((pos = next_attr(buf, stop, pos, &a)) != 0) {
        if (a.slash) {
            return 0;
        }
        size_t len = a.name_end - a.name;
        if (a.quoted && (ci_eq(buf + a.name, len, "xmlns") || ci_eq(buf + a.name, len, "xmlns:xlink"))) {
            continue;
        }
        if (svg_urlish(buf, a.name, a.name_end) || svg_urlish(buf, a.vs, a.ve)) {
            return 0;
        }
    }
    return !a.slash && !a.bad;
}

/* Is buf[s..e), without leading and trailing whitespace, one of the script types whose element
 * the rewriter passes as it is when its src is the page's own: "", "module", "text/javascript",
 * "application/javascript" (any case)? */
static int plain_script_type(const uint8_t *buf, size_t s, size_t e) {
    while (s < e && IS_WS(buf[s])) {
        s++;
    }
    while (e > s && IS_WS(buf[e - 1])) {
        e--;
    }
    size_t len = e - s;
    return len == 0 || ci_eq(buf + s, len, "module") || ci_eq(buf + s, len, "text/javascript") ||
           ci_eq(buf + s, len, "application/javascript");
}

size_t ck_script_island(const uint8_t *buf, size_t n, size_t k, const ck_filter *filter) {
    if (filter == NULL || k + 7 >= n || buf[k] != '<' || !ci_eq(buf + k + 1, 6, "script") || !IS_DELIM(buf[k + 7])) {
        return 0;
    }
    int hit = 0;
    size_t end = tag_end(buf, n, k, filter, CK_ATTENTION_NAMES_FILTERED, &hit);
    if (end == 0 || hit || has_lt(buf, k, end)) {
        return 0;
    }
    int src = 0;
    size_t pos = k + 7;
    ck_attr a;
    while ((pos = next_attr(buf, end - 1, pos, &a)) != 0) {
        size_t len = a.name_end - a.name;
        if (len == 3 && ci_eq(buf + a.name, 3, "src")) {
            src = a.has_value && a.ve > a.vs;
        } else if (len == 4 && ci_eq(buf + a.name, 4, "type") && !plain_script_type(buf, a.vs, a.ve)) {
            return 0;
        }
    }
    if (!src || a.bad) {
        return 0; /* inline code (its content is looked at), or when unsure */
    }
    /* the content: no "<" before "</script" (so no "<!--" and its escaped states either) */
    const uint8_t *lt = memchr(buf + end, '<', n - end);
    if (lt == NULL) {
        return 0;
    }
    size_t j = (size_t)(lt - buf);
    if (n - j < 9 || buf[j + 1] != '/' || !ci_eq(buf + j + 2, 6, "script") || !IS_DELIM(buf[j + 8])) {
        return 0;
    }
    return island_tag_end(buf, n, j);
}

static size_t advance_in(const uint8_t *buf, size_t n, size_t i, const ck_cands *cands, int attention,
                         const ck_filter *filter, int *kind, int islands);

size_t ck_svg_island(const uint8_t *buf, size_t n, size_t k, const ck_cands *islands, int attention,
                     const ck_filter *filter) {
    if (islands == NULL || k + 4 >= n || buf[k] != '<' || !ci_eq(buf + k + 1, 3, "svg") || !IS_DELIM(buf[k + 4])) {
        return 0;
    }
    size_t end = island_tag_end(buf, n, k);
    if (end == 0 || !svg_tag_inert(buf, k, end)) {
        return 0;
    }
    int kind = CK_END;
    size_t q = advance_in(buf, n, end, islands, attention, filter, &kind, 0);
    if (kind != CK_TAG || q + 5 >= n || buf[q + 1] != '/' || !ci_eq(buf + q + 2, 3, "svg") ||
        !IS_DELIM(buf[q + 5])) {
        return 0;
    }
    return island_tag_end(buf, n, q);
}

size_t ck_advance(const uint8_t *buf, size_t n, size_t i, const ck_cands *cands, int attention,
                  const ck_filter *filter, int *kind) {
    return advance_in(buf, n, i, cands, attention, filter, kind, cands->islands != NULL || cands->quiet_scripts);
}

/* ck_advance; with `islands` 0, inline SVGs are not skipped (the scan inside one). */
static size_t advance_in(const uint8_t *buf, size_t n, size_t i, const ck_cands *cands, int attention,
                         const ck_filter *filter, int *kind, int islands) {
    int data_consent = attention == CK_ATTENTION_DATA_CONSENT;
    int names = attention >= CK_ATTENTION_NAMES ? attention : 0;
    size_t k = i;
    while (k < n) {
        const uint8_t *lt = memchr(buf + k, '<', n - k);
        if (lt == NULL) {
            break;
        }
        k = (size_t)(lt - buf);
        int c = candidate_at(buf, n, k, cands);
        if (c == CK_TAG && islands) {
            size_t end = cands->islands ? ck_svg_island(buf, n, k, cands->islands, attention, filter) : 0;
            if (end == 0 && cands->quiet_scripts && attention == CK_ATTENTION_NAMES_FILTERED) {
                end = ck_script_island(buf, n, k, filter);
            }
            if (end > 0) {
                k = end;
                continue;
            }
        }
        if (c) {
            *kind = c;
            return k;
        }
        if (k + 1 >= n) {
            *kind = CK_TAG; /* a lone "<" at the end: incomplete */
            return k;
        }
        uint8_t b = buf[k + 1];
        if (IS_ALPHA(b) || (b == '/' && k + 2 < n && IS_ALPHA(buf[k + 2]))) {
            int hit = 0;
            size_t end = tag_end(buf, n, k, filter, names, &hit);
            if (end == 0 || hit || (data_consent && has_data_consent(buf, n, k + 1, end))) {
                *kind = CK_TAG;
                return k;
            }
            /* a candidate that starts inside this tag (in a value, say) makes it a stop too */
            for (size_t j = k + 1; j < end; j++) {
                const uint8_t *inner = memchr(buf + j, '<', end - j);
                if (inner == NULL) {
                    break;
                }
                j = (size_t)(inner - buf);
                if (candidate_at(buf, n, j, cands)) {
                    *kind = CK_TAG;
                    return k;
                }
            }
            k = end;
            continue;
        }
        if (b == '/') {
            *kind = CK_TAG; /* "</" at the end: incomplete */
            return k;
        }
        k++; /* a stray "<": text */
    }
    *kind = CK_END;
    return n;
}
