/* libFuzzer harness for ck_scan.c (`make fuzz-native`; see docs/native.md).
 *
 * Input: byte 0 chooses the configuration (bits 0 and 5: the attention mode; bit 1: the
 * attribute filter, with exempt names; bits 2-3: one of the rewriter's four candidate sets;
 * bits 6-7: 3 every tag, 1 every start tag but the set's, 2 with inert inline SVGs (scanned
 * with the SVG content set) and first-party scripts skipped; bit 4: the rest of the header
 * names an extra end tag, as an open frame would); bytes 1-2: where the scan starts; the rest
 * is the buffer, in a heap block of exactly its size so that AddressSanitizer sees any read past
 * it. The scan is resumed after every stop, so it also starts inside tags and values; every
 * result is checked against the contract in ck_scan.h.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../ck_scan.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *const BLOCKING[] = {
    "script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "noscript",
    "plaintext", "img", "image", "embed", "object", "link", "source", "video", "audio",
    "html", "body", "svg", "math", "select",
};
static const char *const STRUCTURE[] = {
    "script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "noscript",
    "plaintext", "html", "body", "svg", "math", "select",
};
static const char *const BREAKOUT[] = {
    "b", "big", "blockquote", "body", "br", "center", "code", "dd", "div", "dl", "dt", "em",
    "embed", "h1", "h2", "h3", "h4", "h5", "h6", "head", "hr", "i", "img", "li", "listing",
    "menu", "meta", "nobr", "ol", "p", "pre", "ruby", "s", "small", "span", "strong", "strike",
    "sub", "sup", "table", "tt", "u", "ul", "var", "font",
};
static const char *const ENDS[] = {"body", "svg", "math", "select"};
static const char *const NEEDLES[] = {
    "www.googletagmanager.com", "google-analytics.com", "connect.facebook.net", "facebook.com",
    "static.hotjar.com", "youtube.com", "stats.example.org", "t.co", "x",
};
static const uint8_t STOP_BYTES[] = "&%\t\n\r\x80\xff";
static const char *const EXEMPT[] = {"class", "alt", "content", "xmlns:xlink", "d", "aria-label"};

static const char *const FOREIGN[] = {
    "script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "noscript",
    "plaintext", "html", "body", "svg", "math", "select", "font", "foreignobject", "desc", "mi",
    "mo", "mn", "ms", "mtext", "annotation-xml", "image", "use", "feimage", "set", "animate",
};
static const char *const FOREIGN_ENDS[] = {"svg", "math", "foreignobject", "desc", "title", "p", "br"};

static ck_cands CANDS[4];
static ck_cands ISLANDS;
static ck_filter FILTER;

static void build_set(ck_nameset *set, const char *const *a, size_t na, const char *const *b, size_t nb) {
    const uint8_t *names[128];
    size_t lens[128];
    size_t count = 0;
    for (size_t k = 0; k < na; k++, count++) {
        names[count] = (const uint8_t *)a[k];
        lens[count] = strlen(a[k]);
    }
    for (size_t k = 0; k < nb; k++, count++) {
        names[count] = (const uint8_t *)b[k];
        lens[count] = strlen(b[k]);
    }
    if (ck_nameset_init(set, count, names, lens) != 0) {
        abort();
    }
}

static void setup(void) {
    build_set(&CANDS[0].starts, BLOCKING, COUNT(BLOCKING), NULL, 0);
    build_set(&CANDS[1].starts, STRUCTURE, COUNT(STRUCTURE), NULL, 0);
    build_set(&CANDS[2].starts, BLOCKING, COUNT(BLOCKING), BREAKOUT, COUNT(BREAKOUT));
    build_set(&CANDS[3].starts, STRUCTURE, COUNT(STRUCTURE), BREAKOUT, COUNT(BREAKOUT));
    for (int k = 0; k < 4; k++) {
        build_set(&CANDS[k].ends, ENDS, COUNT(ENDS), NULL, 0);
    }
    build_set(&ISLANDS.starts, FOREIGN, COUNT(FOREIGN), NULL, 0);
    build_set(&ISLANDS.ends, FOREIGN_ENDS, COUNT(FOREIGN_ENDS), NULL, 0);
    const uint8_t *needles[COUNT(NEEDLES)];
    size_t lens[COUNT(NEEDLES)];
    for (size_t k = 0; k < COUNT(NEEDLES); k++) {
        needles[k] = (const uint8_t *)NEEDLES[k];
        lens[k] = strlen(NEEDLES[k]);
    }
    if (ck_filter_init(&FILTER, COUNT(NEEDLES), needles, lens, STOP_BYTES, sizeof(STOP_BYTES) - 1) != 0) {
        abort();
    }
    const uint8_t *exempt[COUNT(EXEMPT)];
    size_t exempt_lens[COUNT(EXEMPT)];
    for (size_t k = 0; k < COUNT(EXEMPT); k++) {
        exempt[k] = (const uint8_t *)EXEMPT[k];
        exempt_lens[k] = strlen(EXEMPT[k]);
    }
    if (ck_filter_exempt(&FILTER, COUNT(EXEMPT), exempt, exempt_lens) != 0) {
        abort();
    }
}

static void check(const uint8_t *buf, size_t n, size_t i, size_t stop, int kind) {
    if (stop < i || stop > n) {
        abort();
    }
    if (kind == CK_END) {
        if (stop != n) {
            abort();
        }
    } else if (kind == CK_TAG || kind == CK_DECL) {
        if (stop >= n || buf[stop] != '<') {
            abort();
        }
        if (kind == CK_DECL && (stop + 1 >= n || (buf[stop + 1] != '!' && buf[stop + 1] != '?' &&
                                                  buf[stop + 1] != '/'))) {
            abort();
        }
    } else {
        abort();
    }
    /* what was skipped holds no "<!" or "<?" */
    for (size_t j = i; j + 1 < stop; j++) {
        if (buf[j] == '<' && (buf[j + 1] == '!' || buf[j + 1] == '?')) {
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int ready = 0;
    if (!ready) {
        setup();
        ready = 1;
    }
    if (size < 3) {
        return 0;
    }
    uint8_t flags = data[0];
    size_t header = 3;
    ck_cands cands = CANDS[(flags >> 2) & 3];
    if ((flags & 0xC0) == 0xC0) {
        cands.any_tag = 1;
    } else if (flags & 0x40) {
        cands.all_starts_but = 1;
    } else if (flags & 0x80) {
        cands.islands = &ISLANDS;
        cands.quiet_scripts = 1; /* used with NAMES_FILTERED and the filter */
    }
    int attention = (flags & 1) | ((flags >> 4) & 2); /* NONE .. NAMES_FILTERED */
    ck_nameset extra;
    int have_extra = 0;
    if (flags & 0x10) {
        /* an extra end name: header bytes up to the first NUL (at most 16) */
        size_t len = 0;
        while (header + len < size && len < 16 && data[header + len] != 0) {
            len++;
        }
        const uint8_t *names[COUNT(ENDS) + 1];
        size_t lens[COUNT(ENDS) + 1];
        for (size_t k = 0; k < COUNT(ENDS); k++) {
            names[k] = (const uint8_t *)ENDS[k];
            lens[k] = strlen(ENDS[k]);
        }
        names[COUNT(ENDS)] = data + header;
        lens[COUNT(ENDS)] = len;
        if (ck_nameset_init(&extra, COUNT(ENDS) + 1, names, lens) == 0) {
            have_extra = 1;
            cands.ends = extra;
        }
        header += len + (header + len < size);
    }
    if (header > size) {
        header = size;
    }
    size_t n = size - header;
    uint8_t *buf = malloc(n ? n : 1);
    if (buf == NULL) {
        abort();
    }
    memcpy(buf, data + header, n);
    size_t i = (((size_t)data[1] << 8) | data[2]) % (n + 1);
    const ck_filter *filter = (flags & 2) ? &FILTER : NULL;
    while (i <= n) {
        int kind = -1;
        size_t stop = ck_advance(buf, n, i, &cands, attention, filter, &kind);
        check(buf, n, i, stop, kind);
        if (kind == CK_END) {
            break;
        }
        size_t name_end = 0;
        size_t end = ck_read_tag(buf, n, stop, &name_end);
        if (end != 0 && !(stop + 2 <= name_end && name_end < end && end <= n && buf[end - 1] == '>')) {
            abort(); /* a tag read must lie inside the buffer and end with its ">" */
        }
        size_t island = ck_svg_island(buf, n, stop, &ISLANDS, attention, filter);
        if (island != 0 && !(stop + 11 <= island && island <= n && buf[island - 1] == '>')) {
            abort(); /* "<svg></svg>" at the shortest, inside the buffer */
        }
        size_t script = ck_script_island(buf, n, stop, &FILTER);
        if (script != 0 && !(stop + 24 <= script && script <= n && buf[script - 1] == '>')) {
            abort(); /* "<script src=x></script>" at the shortest, inside the buffer */
        }
        i = stop + 1;
    }
    (void)ck_filter_hits(&FILTER, buf, n);
    free(buf);
    if (have_extra) {
        ck_nameset_free(&extra);
    }
    return 0;
}
