/* A small static TCP server for the seccomp generation tests: listens on 127.0.0.1, forks a client
   that connects and sends "ping", answers "pong", and exits 0 when the exchange worked. With the
   argument "v6" it also opens an AF_INET6 socket, a call the recorded run never made. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "v6") == 0) {
        int s6 = socket(AF_INET6, SOCK_STREAM, 0);
        if (s6 < 0) { perror("socket AF_INET6"); return 3; }
        close(s6);
    }
    int server = socket(AF_INET, SOCK_STREAM, 0);
    if (server < 0) { perror("socket"); return 1; }
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t length = sizeof address;
    if (bind(server, (struct sockaddr *)&address, sizeof address) || listen(server, 1) ||
        getsockname(server, (struct sockaddr *)&address, &length)) { perror("bind/listen"); return 1; }
    pid_t child = fork();
    if (child == 0) {
        int client = socket(AF_INET, SOCK_STREAM, 0);
        char answer[8] = {0};
        if (client < 0 || connect(client, (struct sockaddr *)&address, sizeof address)) _exit(1);
        if (write(client, "ping", 4) != 4 || read(client, answer, 4) != 4) _exit(1);
        _exit(strcmp(answer, "pong") == 0 ? 0 : 1);
    }
    int connection = accept(server, NULL, NULL);
    char request[8] = {0};
    if (connection < 0 || read(connection, request, 4) != 4 || strcmp(request, "ping") || write(connection, "pong", 4) != 4) {
        perror("serve");
        return 1;
    }
    int status;
    waitpid(child, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status)) { fprintf(stderr, "client failed\n"); return 1; }
    puts("served");
    return 0;
}
