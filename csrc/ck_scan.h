/* consentkit's native tokenizer scan: the HTML data state between the constructs that matter.
 *
 * Plain C99 with no Python API, so that the libFuzzer harness (fuzz_scan.c) links the very code
 * the extension module (ck_scanmodule.c) runs. The contract, and its Python twin, are described
 * in src/consentkit/_pyscan.py and docs/native.md.
 *
 * Safety rules this file keeps: every read is bounds-checked against the buffer length; no
 * recursion (an inline SVG's scan runs without islands: one level of calls); no allocation
 * while scanning (name sets and needle filters are built once, from
 * configuration, and freed with ck_*_free).
 */
#ifndef CK_SCAN_H
#define CK_SCAN_H

#include <stddef.h>
#include <stdint.h>

enum { CK_END = 0, CK_TAG = 1, CK_DECL = 2 };

/* What else makes an ordinary tag a stop (the `attention` argument of ck_advance). */
enum {
    CK_ATTENTION_NONE = 0,
    CK_ATTENTION_DATA_CONSENT = 1, /* "data-consent" (any case) starts inside the tag */
    CK_ATTENTION_NAMES = 2,        /* an attribute named data-consent, style, background, ping, src,
                                      http-equiv, or data-* with src, bg, background, poster, lazy,
                                      original, image, img, url, echo or href in the rest of its name */
    CK_ATTENTION_NAMES_FILTERED = 3, /* the same, but with a filter only data-consent and http-equiv
                                        stop by their names: the other names are left to the filter,
                                        which checks every value of a start tag */
};

/* Limits on configuration (not on input): checked when a set or a filter is built. */
#define CK_MAX_NAMES 65535
#define CK_MAX_NAME_LEN 65535
#define CK_MAX_NEEDLES 65535
#define CK_MAX_NEEDLE_LEN 65535

/* A set of lower-case element names. */
typedef struct {
    size_t count;
    size_t maxlen;
    uint8_t *pool;      /* the names, back to back */
    size_t *off;        /* offset of each name in pool */
    size_t *len;        /* length of each name */
    int32_t *next;      /* next name with the same first byte, -1 at the end */
    int32_t head[256];  /* first name per first byte, -1 if none */
} ck_nameset;

/* Candidate constructs: start tags named in `starts`, end tags named in `ends`; with `any_tag`,
 * every start and end tag (a letter, a name, then a delimiter) and the sets are not used; with
 * `all_starts_but`, every start tag except those named in `starts` (end tags as `ends` says).
 * With `islands` (whose own `islands` must be NULL), an inert inline SVG is skipped whole: a
 * candidate <svg> start tag whose attributes hold nothing URL-like (see ck_svg_island), when a
 * scan of its content with the `islands` candidates first stops at the </svg> that closes it. */
typedef struct ck_cands {
    ck_nameset starts;
    ck_nameset ends;
    int any_tag;
    int all_starts_but;
    const struct ck_cands *islands;
    int quiet_scripts; /* with NAMES_FILTERED and a filter, skip a candidate <script> whole when
                          ck_script_island says so */
} ck_cands;

/* The per-tag filter: a start tag is a stop when one of its attribute values contains a needle
 * (ASCII case-insensitive) or one of the stop bytes (exactly); the values of attributes named
 * in `exempt` (any case; see ck_filter_exempt) are not looked at. */
typedef struct {
    uint8_t stop[256];
    uint8_t pair[8192]; /* bit per (lower(first), lower(second)) of the needles of length >= 2 */
    uint8_t gate[256];  /* 1: a stop byte; 2: the first byte (either case) of a needle of length >= 2 */
    size_t count;
    uint8_t *pool;
    size_t *off;
    size_t *len;
    int32_t *next;
    int32_t head[256];
    ck_nameset exempt; /* count 0: none */
} ck_filter;

/* Build a name set from `count` names (each `lens[k]` bytes at `names[k]`). Returns 0, or -1
 * for an invalid name (empty, not starting with a-z, containing A-Z, tab, LF, FF, CR, space,
 * "/" or ">") or a limit, -2 when out of memory. On failure nothing needs freeing. */
int ck_nameset_init(ck_nameset *set, size_t count, const uint8_t *const *names, const size_t *lens);
void ck_nameset_free(ck_nameset *set);

/* Build a filter. Needles are lower-cased here; an empty needle is invalid (-1). */
int ck_filter_init(ck_filter *f, size_t count, const uint8_t *const *needles, const size_t *lens,
                   const uint8_t *stop_bytes, size_t stop_len);
void ck_filter_free(ck_filter *f);

/* Attribute names whose values the filter does not look at (names as for ck_nameset_init; set
 * once, after ck_filter_init). Returns 0, -1 for an invalid name, -2 when out of memory. */
int ck_filter_exempt(ck_filter *f, size_t count, const uint8_t *const *names, const size_t *lens);

/* Does this attribute value stop the scan under filter f? */
int ck_filter_hits(const ck_filter *f, const uint8_t *v, size_t n);

/* From position i of buf[0..n), skip text, stray "<" and complete ordinary tags; return the
 * position of the first construct that matters and set *kind:
 *   CK_DECL  "<!", "<?" or "</" + a non-letter;
 *   CK_TAG   a candidate start/end tag, or an ordinary tag that contains a candidate, that
 *            `attention` points at, or, for a start tag, with an attribute value the filter hits;
 *            or a tag (or a lone "<", "</") that is incomplete at the end of the buffer;
 *   CK_END   nothing: the position returned is n.
 * `filter` may be NULL. Requires i <= n. */
/* The tag at buf[k] ("<" + letter, or "</" + letter), read with the tokenizer's exact attribute
 * quoting: the position after its ">" (and in *name_end, the end of its name), or 0 when there
 * is no tag at k or it is incomplete. The same as the rewriter's _TAG regex. */
size_t ck_read_tag(const uint8_t *buf, size_t n, size_t k, size_t *name_end);

/* The end of the inert inline SVG element at buf[k] ("<svg" + a delimiter), or 0 when it is
 * not one: its start tag is complete, holds no "<" after its first byte, has no "/" between
 * attributes (not self-closing) and no
 * attribute other than a quoted xmlns or xmlns:xlink has "/", "\\", ":", "&", "srcdoc" or
 * "data-consent" (any case) in its name or value; a scan of what follows with `islands`,
 * `attention` and `filter` first stops at a complete </svg> tag (with no "<" inside it); the
 * position after that tag. */
size_t ck_svg_island(const uint8_t *buf, size_t n, size_t k, const ck_cands *islands, int attention,
                     const ck_filter *filter);

/* The end of the first-party external script element at buf[k] ("<script" + a delimiter), or 0
 * when it is not one: its start tag is complete, is no stop under NAMES_FILTERED and `filter`
 * (non-NULL), has a src attribute with a non-empty value and no type attribute other than
 * "", "module", "text/javascript" or "application/javascript" (any case, whitespace trimmed);
 * neither it nor its end tag holds a "<" after the first byte; the first "<" of its content
 * starts "</script" + a delimiter, a complete tag; the position after that end tag. */
size_t ck_script_island(const uint8_t *buf, size_t n, size_t k, const ck_filter *filter);

size_t ck_advance(const uint8_t *buf, size_t n, size_t i, const ck_cands *cands, int attention,
                  const ck_filter *filter, int *kind);

#endif
