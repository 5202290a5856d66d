package io.modelegress.server.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Registered for every test class (service loader + autodetection): asserts leak detection runs at PARANOID and,
 * after each class, collects garbage and prods the detector so any leaked buffer fails that class.
 */
public final class LeakCheckExtension implements BeforeAllCallback, AfterAllCallback {
    @Override
    public void beforeAll(ExtensionContext context) {
        assertEquals(ResourceLeakDetector.Level.PARANOID, ResourceLeakDetector.getLevel(),
                "tests must run with -Dio.netty.leakDetection.level=paranoid");
    }

    @Override
    public void afterAll(ExtensionContext context) {
        for (int i = 0; i < 8; i++) {
            System.gc();
            List<ByteBuf> probes = new ArrayList<>();
            for (int j = 0; j < 16; j++) {
                probes.add(PooledByteBufAllocator.DEFAULT.directBuffer(16));
                probes.add(PooledByteBufAllocator.DEFAULT.heapBuffer(16));
                probes.add(UnpooledByteBufAllocator.DEFAULT.directBuffer(16));
            }
            probes.forEach(ByteBuf::release);
        }
        if (!LeakRecordingDetector.LEAKS.isEmpty()) {
            List<String> leaks = new ArrayList<>(LeakRecordingDetector.LEAKS);
            LeakRecordingDetector.LEAKS.clear();
            fail("Netty buffer leak(s) in " + context.getDisplayName() + ":\n" + String.join("\n", leaks));
        }
    }
}
