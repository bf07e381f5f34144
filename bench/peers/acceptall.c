/*
 * acceptall.c - the protocol floor of the benchmark: an accept-all milter on libmilter.
 *
 *   acceptall -p inet:18892@127.0.0.1 [-t lifetime_seconds]
 *
 * Registers every callback (connect, helo, mail, rcpt, data, header, end of headers, body,
 * end of message, abort, close) and answers SMFIS_CONTINUE to each and SMFIS_ACCEPT at end
 * of message. It has no negotiate callback, so libmilter asks the MTA for every stage and
 * a reply to each: the cost of the milter protocol through libmilter with no work done,
 * which is what bench/run.sh compares every milter with. Stops on SIGTERM/SIGINT
 * (libmilter) or after the lifetime (default 4 hours), so a forgotten one does not linger.
 */
#include <libmilter/mfapi.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static sfsistat on_connect(SMFICTX* ctx, char* host, _SOCK_ADDR* addr) {
    (void)ctx, (void)host, (void)addr;
    return SMFIS_CONTINUE;
}

static sfsistat on_helo(SMFICTX* ctx, char* name) {
    (void)ctx, (void)name;
    return SMFIS_CONTINUE;
}

static sfsistat on_envelope(SMFICTX* ctx, char** argv) {
    (void)ctx, (void)argv;
    return SMFIS_CONTINUE;
}

static sfsistat on_header(SMFICTX* ctx, char* name, char* value) {
    (void)ctx, (void)name, (void)value;
    return SMFIS_CONTINUE;
}

static sfsistat on_body(SMFICTX* ctx, unsigned char* chunk, size_t length) {
    (void)ctx, (void)chunk, (void)length;
    return SMFIS_CONTINUE;
}

static sfsistat on_stage(SMFICTX* ctx) {
    (void)ctx;
    return SMFIS_CONTINUE;
}

static sfsistat on_end_of_message(SMFICTX* ctx) {
    (void)ctx;
    return SMFIS_ACCEPT;
}

static struct smfiDesc description = {
    "acceptall", SMFI_VERSION,      0,           /* no modifications */
    on_connect,  on_helo,           on_envelope, /* MAIL */
    on_envelope,                                 /* RCPT */
    on_header,   on_stage,                       /* end of headers */
    on_body,     on_end_of_message, on_stage,    /* abort */
    on_stage,                                    /* close */
    NULL,                                        /* unknown commands */
    on_stage,                                    /* DATA */
    NULL, /* negotiate: libmilter's default, every stage with a reply */
};

static void* stop_after(void* seconds) {
    sleep((unsigned)(long)seconds);
    fprintf(stderr, "acceptall: lifetime reached, stopping\n");
    smfi_stop();
    return NULL;
}

int main(int argc, char** argv) {
    const char* socket_spec = "inet:18892@127.0.0.1";
    long lifetime = 4 * 3600;
    int option;
    pthread_t timer;

    while ((option = getopt(argc, argv, "p:t:")) != -1) {
        switch (option) {
            case 'p':
                socket_spec = optarg;
                break;
            case 't':
                lifetime = atol(optarg);
                break;
            default:
                fprintf(stderr, "usage: acceptall [-p socket] [-t lifetime_seconds]\n");
                return 2;
        }
    }
    if (smfi_setconn((char*)socket_spec) == MI_FAILURE ||
        smfi_register(description) == MI_FAILURE) {
        fprintf(stderr, "acceptall: cannot listen on %s\n", socket_spec);
        return 1;
    }
    /* a read waits at most 30 s for the MTA (libmilter default: 2 hours) */
    smfi_settimeout(30);
    if (smfi_opensocket(1) == MI_FAILURE) {
        fprintf(stderr, "acceptall: cannot open %s\n", socket_spec);
        return 1;
    }
    if (lifetime > 0 && pthread_create(&timer, NULL, stop_after, (void*)lifetime) == 0)
        pthread_detach(timer);
    return smfi_main() == MI_SUCCESS ? 0 : 1;
}
