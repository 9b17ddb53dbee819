package dev.spamtrap.smtp.tarpit;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

class TarpitCapacityTest {
    private static InetAddress ip(String s) throws Exception {
        return InetAddress.getByName(s);
    }

    @Test
    void nodeLimit() throws Exception {
        TarpitCapacity c = new TarpitCapacity(2, 10);
        var a = c.tryAcquire(ip("192.0.2.1"));
        var b = c.tryAcquire(ip("192.0.2.2"));
        var d = c.tryAcquire(ip("192.0.2.3"));
        assertThat(a.ticket()).isPresent();
        assertThat(b.ticket()).isPresent();
        assertThat(d.ticket()).isEmpty();
        assertThat(d.refusal()).isEqualTo(TarpitCapacity.Refusal.NODE_FULL);
        c.release(a.ticket().get());
        assertThat(c.tryAcquire(ip("192.0.2.3")).ticket()).isPresent();
        assertThat(c.total()).isEqualTo(2);
    }

    @Test
    void clientLimitCountsAnIpv4AddressAndAnIpv6Slash64() throws Exception {
        TarpitCapacity c = new TarpitCapacity(100, 2);
        assertThat(c.tryAcquire(ip("192.0.2.1")).ticket()).isPresent();
        assertThat(c.tryAcquire(ip("192.0.2.1")).ticket()).isPresent();
        var third = c.tryAcquire(ip("192.0.2.1"));
        assertThat(third.ticket()).isEmpty();
        assertThat(third.refusal()).isEqualTo(TarpitCapacity.Refusal.CLIENT_FULL);
        assertThat(c.tryAcquire(ip("192.0.2.2")).ticket()).isPresent();

        assertThat(c.tryAcquire(ip("2001:db8:1:2::1")).ticket()).isPresent();
        assertThat(c.tryAcquire(ip("2001:db8:1:2:ffff::9")).ticket()).isPresent();
        assertThat(c.tryAcquire(ip("2001:db8:1:2:aaaa::1")).ticket()).isEmpty();
        assertThat(c.tryAcquire(ip("2001:db8:1:3::1")).ticket()).isPresent();
        assertThat(c.total()).isEqualTo(6);
        assertThat(c.ofClient(ip("2001:db8:1:2::77"))).isEqualTo(2);
    }

    @Test
    void clientKey() throws Exception {
        assertThat(TarpitCapacity.clientKey(ip("127.0.0.5"))).isEqualTo("127.0.0.5");
        assertThat(TarpitCapacity.clientKey(ip("2001:db8:0:2::1"))).isEqualTo("2001:db8:0:2::/64");
        assertThat(TarpitCapacity.clientKey(ip("::ffff:192.0.2.7"))).isEqualTo("192.0.2.7");
    }

    @Test
    void releasingGivesThePlaceBackAndForgetsTheClient() throws Exception {
        TarpitCapacity c = new TarpitCapacity(10, 1);
        var t = c.tryAcquire(ip("192.0.2.1")).ticket().get();
        assertThat(c.tryAcquire(ip("192.0.2.1")).ticket()).isEmpty();
        c.release(t);
        assertThat(c.ofClient(ip("192.0.2.1"))).isZero();
        assertThat(c.total()).isZero();
        assertThat(c.tryAcquire(ip("192.0.2.1")).ticket()).isPresent();
    }

    @Test
    void neverAdmitsMoreThanTheLimitUnderContention() throws Exception {
        TarpitCapacity c = new TarpitCapacity(500, 1000);
        AtomicInteger admitted = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        CountDownLatch go = new CountDownLatch(1);
        for (int t = 0; t < 4; t++) {
            int base = t;
            pool.execute(() -> {
                try {
                    go.await();
                    for (int i = 0; i < 400; i++) {
                        if (c.tryAcquire(InetAddress.getByName("10.0." + base + "." + (i % 250))).ticket().isPresent()) {
                            admitted.incrementAndGet();
                        }
                    }
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
        }
        go.countDown();
        pool.shutdown();
        assertThat(pool.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
        assertThat(admitted.get()).isEqualTo(500);
        assertThat(c.total()).isEqualTo(500);
    }
}
