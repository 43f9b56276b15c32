/* Protocol v5 outer frames (v5 spec section 2, "Frame format").
 *
 * A v5 connection carries frames, each wrapping envelopes (envelope.h):
 *
 *   uncompressed: 6-byte header = 3 bytes little-endian {payload length:17,
 *                 self-contained:1, padding:6} + CRC24 of those 3 bytes (3
 *                 bytes LE); payload; CRC32 of the payload (4 bytes LE).
 *   LZ4:          8-byte header = 5 bytes LE {compressed length:17,
 *                 uncompressed length:17, self-contained:1, padding:5} +
 *                 CRC24 of those 5 bytes (3 bytes LE); payload; CRC32 of the
 *                 payload as sent (compressed). Uncompressed length 0 means
 *                 the payload was sent as-is because LZ4 did not shrink it.
 *
 * Payloads are at most 128 KiB - 1 (CQLMUX_FRAME_V5_MAX_PAYLOAD, before and
 * after compression). A self-contained frame holds one or more whole
 * envelopes. An envelope that does not fit one frame is cut into a run of
 * non-self-contained frames holding nothing else, sent back to back; the
 * receiver joins them, learning the total from the envelope header at the
 * start of the first one. Checksums: crc.h.
 *
 * Handshake (spec section 2.3.1): framing starts only once STARTUP has been
 * answered. Before that, OPTIONS/SUPPORTED and STARTUP and its answer are
 * plain envelopes. The server switches after it sends READY or AUTHENTICATE
 * in answer to a v5 STARTUP; the client therefore
 *   - sends STARTUP unframed and nothing else until it is answered;
 *   - decodes that answer unframed; if it is READY or AUTHENTICATE, every
 *     byte after it, in both directions (AUTH_RESPONSE included), is framed,
 *     with LZ4 frames when STARTUP asked for COMPRESSION=lz4;
 *   - if it is an ERROR (say, v5 refused), stays unframed.
 * cqlmux_framing_after_startup() gives the mode to use from then on.
 * Envelopes inside v5 frames never set CQLMUX_FLAG_COMPRESSION.
 */
#ifndef CQLMUX_PROTO_FRAME_V5_H
#define CQLMUX_PROTO_FRAME_V5_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/wire.h"

#define CQLMUX_FRAME_V5_MAX_PAYLOAD 0x1FFFFu
#define CQLMUX_FRAME_V5_HEADER_SIZE 6
#define CQLMUX_FRAME_V5_LZ4_HEADER_SIZE 8
#define CQLMUX_FRAME_V5_TRAILER_SIZE 4
/* The largest frame of either kind: a read buffer this big always makes
 * progress with cqlmux_frame_v5_decode. */
#define CQLMUX_FRAME_V5_MAX_FRAME_SIZE \
  (CQLMUX_FRAME_V5_LZ4_HEADER_SIZE + CQLMUX_FRAME_V5_MAX_PAYLOAD + CQLMUX_FRAME_V5_TRAILER_SIZE)

/* How a connection's bytes are cut into envelopes, in each direction. */
typedef enum cqlmux_framing {
  CQLMUX_FRAMING_NONE = 0,   /* plain envelopes (v3/v4, and v5 before the switch) */
  CQLMUX_FRAMING_V5 = 1,     /* v5 frames with CRCs, uncompressed */
  CQLMUX_FRAMING_V5_LZ4 = 2  /* v5 frames with CRCs, LZ4-compressed */
} cqlmux_framing;

/* The framing to use after the answer (opcode `answer`) to a STARTUP of
 * protocol `version` that asked for LZ4 (`lz4`) or not: framed only for v5
 * and a READY or AUTHENTICATE answer. */
cqlmux_framing cqlmux_framing_after_startup(uint8_t version, uint8_t answer, bool lz4);

/* Appends one whole frame holding payload[0..n) to out (n at most
 * CQLMUX_FRAME_V5_MAX_PAYLOAD, else OVERSIZED). With lz4 the payload is
 * compressed when that makes it smaller, else sent as-is. `payload` must
 * not point into out. Returns CQLMUX_OK or out->error (NOMEM, OVERSIZED) or
 * COMPRESSION. */
int cqlmux_frame_v5_append(cqlmux_wbuf *out, bool lz4, bool self_contained,
                           const uint8_t *payload, size_t n);

/* ---- writer: frames envelopes encoded straight into the output buffer ----
 *
 * Use per output burst:
 *     size_t at = cqlmux_frame_v5_writer_begin(&w);
 *     ...encode one envelope into w.out (request.h)...
 *     cqlmux_frame_v5_writer_end(&w, at);
 *     ...more envelopes...
 *     cqlmux_frame_v5_writer_flush(&w);   before handing w.out to the socket
 * Small envelopes share one self-contained frame until it would pass the
 * payload limit; an envelope larger than the limit goes out alone as
 * non-self-contained frames. Uncompressed, envelopes stay where they were
 * encoded (no copy) except when one crosses a frame boundary; LZ4 compresses
 * each frame in place using out's spare capacity. The writer owns only a
 * scratch buffer, reused, that holds an envelope crossing a boundary.
 * Request encoders roll back their own failures, so a failed encode leaves
 * the frame intact. An error of out itself (NOMEM, OVERSIZED) or COMPRESSION
 * leaves a partial frame: flush (which returns the error and closes the
 * frame), then drop out's contents from the first unsent frame on. */
typedef struct cqlmux_frame_v5_writer {
  cqlmux_wbuf *out;
  bool lz4;
  size_t frame_start;   /* offset of the open frame's header in out; SIZE_MAX: none */
  cqlmux_wbuf scratch;
} cqlmux_frame_v5_writer;

void cqlmux_frame_v5_writer_init(cqlmux_frame_v5_writer *w, cqlmux_wbuf *out, bool lz4,
                                 const cqlmux_allocator *alloc);
void cqlmux_frame_v5_writer_free(cqlmux_frame_v5_writer *w);
/* Opens a frame if none is open; returns where the next envelope starts in
 * out (SIZE_MAX if out->error is set). */
size_t cqlmux_frame_v5_writer_begin(cqlmux_frame_v5_writer *w);
/* Accounts for the envelope appended since begin returned `at` (nothing
 * appended, e.g. a failed encode that rolled back, is fine). */
int cqlmux_frame_v5_writer_end(cqlmux_frame_v5_writer *w, size_t at);
/* The first n bytes of out were removed (sent, before the open frame
 * began): the open frame, if any, moved back by as many. */
void cqlmux_frame_v5_writer_dropped(cqlmux_frame_v5_writer *w, size_t n);
/* Seals the open frame, if any (an empty one is dropped). */
int cqlmux_frame_v5_writer_flush(cqlmux_frame_v5_writer *w);

/* ---- streaming decoder ----
 *
 * The caller keeps received bytes in its own buffer and calls decode on the
 * unconsumed part each time more arrive. Each call handles at most one frame
 * and returns:
 *   > 0  bytes of that frame, now consumed; *envelopes is set to the whole
 *        envelopes it completed, back to back (empty while a large envelope
 *        is still being joined). Walk them with cqlmux_envelope_decode, which
 *        cannot then return 0.
 *   0    the frame is not all there yet (the caller's buffer must be able to
 *        hold CQLMUX_FRAME_V5_MAX_FRAME_SIZE bytes); nothing changed.
 *   < 0  BAD_CRC (header or payload checksum), COMPRESSION (LZ4 failed or
 *        gave a different length), MALFORMED (a self-contained payload that
 *        is not whole envelopes, a self-contained frame in the middle of a
 *        large envelope, or more bytes than the large envelope declared),
 *        OVERSIZED (a joined envelope's body above max_envelope), NOMEM.
 *        The connection is then unusable: the stream has lost its frame
 *        boundaries. The decoder drops any half-joined envelope.
 * *envelopes points into `in` (uncompressed self-contained frames: zero
 * copy), or into the decoder's buffers (decompressed or joined); it stays
 * valid until the next decode call or until those input bytes are dropped.
 * The decoder's two buffers are reused: steady state does not allocate. */
typedef struct cqlmux_frame_v5_decoder {
  bool lz4;
  uint32_t max_envelope;  /* largest body accepted in a joined envelope */
  bool joining;           /* a large envelope is partly in `joined` */
  cqlmux_wbuf payload;    /* the last decompressed payload */
  cqlmux_wbuf joined;     /* the large envelope being joined */
} cqlmux_frame_v5_decoder;

void cqlmux_frame_v5_decoder_init(cqlmux_frame_v5_decoder *d, bool lz4, uint32_t max_envelope,
                                  const cqlmux_allocator *alloc);
void cqlmux_frame_v5_decoder_reset(cqlmux_frame_v5_decoder *d);
void cqlmux_frame_v5_decoder_free(cqlmux_frame_v5_decoder *d);
int cqlmux_frame_v5_decode(cqlmux_frame_v5_decoder *d, const uint8_t *in, size_t len,
                           cqlmux_slice *envelopes);

#endif
