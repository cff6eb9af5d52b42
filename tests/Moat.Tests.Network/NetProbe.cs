namespace Moat.Tests.Network;

/// <summary>
/// A static C probe for the image (busybox's nc has no UDP here):
/// `netprobe serve tcp|udp PORT` answers every connection or datagram with "peer=ADDR\n";
/// `netprobe tcp|udp ADDR PORT` prints the answer and exits 0, or exits 1 after 2 seconds without one;
/// `netprobe icmp ADDR`: one echo through an unprivileged ICMP socket, 0 on a reply.
/// </summary>
public static class NetProbe
{
    public const string Source = """
        #include <arpa/inet.h>
        #include <netinet/in.h>
        #include <netinet/ip_icmp.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        #include <sys/socket.h>
        #include <sys/time.h>
        #include <unistd.h>

        int main(int argc, char **argv) {
            if (argc == 4 && strcmp(argv[1], "serve") == 0) {
                int udp = strcmp(argv[2], "udp") == 0;
                int s = socket(AF_INET, udp ? SOCK_DGRAM : SOCK_STREAM, 0), one = 1;
                setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
                struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[3])) };
                if (bind(s, (struct sockaddr *)&a, sizeof a) != 0) { perror("bind"); return 2; }
                if (!udp && listen(s, 64) != 0) { perror("listen"); return 2; }
                fprintf(stderr, "listening\n");
                for (;;) {
                    struct sockaddr_in p; socklen_t n = sizeof p; char reply[64], buf[512];
                    if (udp) {
                        if (recvfrom(s, buf, sizeof buf, 0, (struct sockaddr *)&p, &n) < 0) continue;
                        int len = snprintf(reply, sizeof reply, "peer=%s\n", inet_ntoa(p.sin_addr));
                        sendto(s, reply, len, 0, (struct sockaddr *)&p, n);
                    } else {
                        int c = accept(s, (struct sockaddr *)&p, &n);
                        if (c < 0) continue;
                        int len = snprintf(reply, sizeof reply, "peer=%s\n", inet_ntoa(p.sin_addr));
                        write(c, reply, len);
                        close(c);
                    }
                }
            }
            if (argc == 3 && strcmp(argv[1], "icmp") == 0) {
                /* An unprivileged echo (ping_group_range): no CAP_NET_RAW needed. */
                int s = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
                if (s < 0) { perror("socket"); return 2; }
                struct timeval t = { .tv_sec = 2 };
                setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &t, sizeof t);
                struct sockaddr_in a = { .sin_family = AF_INET };
                if (inet_pton(AF_INET, argv[2], &a.sin_addr) != 1) { fprintf(stderr, "bad address\n"); return 2; }
                struct icmphdr h = { .type = ICMP_ECHO, .un.echo.sequence = htons(1) };
                if (sendto(s, &h, sizeof h, 0, (struct sockaddr *)&a, sizeof a) < 0) { perror("sendto"); return 1; }
                char buf[256];
                if (recv(s, buf, sizeof buf, 0) <= 0) { perror("recv"); return 1; }
                puts("echo reply");
                return 0;
            }
            if (argc == 4) {
                int udp = strcmp(argv[1], "udp") == 0;
                int s = socket(AF_INET, udp ? SOCK_DGRAM : SOCK_STREAM, 0);
                struct timeval t = { .tv_sec = 2 };
                setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &t, sizeof t);
                setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &t, sizeof t);
                struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[3])) };
                if (inet_pton(AF_INET, argv[2], &a.sin_addr) != 1) { fprintf(stderr, "bad address\n"); return 2; }
                if (connect(s, (struct sockaddr *)&a, sizeof a) != 0) { perror("connect"); return 1; }
                if (udp) write(s, "hello\n", 6);
                char buf[128]; ssize_t n = read(s, buf, sizeof buf - 1);
                if (n <= 0) { perror("read"); return 1; }
                buf[n] = 0; fputs(buf, stdout);
                return 0;
            }
            fprintf(stderr, "usage: netprobe serve tcp|udp PORT | netprobe tcp|udp ADDR PORT\n");
            return 2;
        }
        """;
}
