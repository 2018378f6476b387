package org.deebert.streams.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/** Picks free TCP ports on the loopback interface for in-process and child-process servers. */
final class FreePorts {

    private FreePorts() {
    }

    /**
     * @return a port that was free on 127.0.0.1 a moment ago (another process may still take it before
     *     the caller binds it; servers started here fail loudly in that case)
     * @throws UncheckedIOException if no port could be bound
     */
    static int next() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free port on 127.0.0.1", e);
        }
    }
}
