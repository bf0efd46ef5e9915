/* The floor the benchmark compares the pipeline with: libpcap reading a capture file and nothing
 * else (pcap_open_offline + pcap_next_ex). Prints packets, bytes, seconds and packets/s. */
#include <pcap/pcap.h>
#include <stdio.h>
#include <time.h>

int main(int argc, char** argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s FILE.pcap\n", argv[0]);
        return 2;
    }
    char err[PCAP_ERRBUF_SIZE];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pcap_t* p = pcap_open_offline(argv[1], err);
    if (!p) {
        fprintf(stderr, "%s: %s\n", argv[1], err);
        return 1;
    }
    struct pcap_pkthdr* h;
    const u_char* data;
    unsigned long long packets = 0, bytes = 0;
    unsigned sink = 0; /* touch one byte per frame, as any consumer would */
    int rc;
    while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
        ++packets;
        bytes += h->caplen;
        if (h->caplen) sink += data[0];
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (rc != PCAP_ERROR_BREAK) fprintf(stderr, "%s: %s\n", argv[1], pcap_geterr(p));
    pcap_close(p);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("packets=%llu bytes=%llu seconds=%.3f pps=%.0f check=%u\n", packets, bytes, s,
           s > 0 ? (double)packets / s : 0.0, sink & 1u);
    return rc == PCAP_ERROR_BREAK ? 0 : 1;
}
