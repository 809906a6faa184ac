package dev.panaio.testing.child;

import dev.panaio.testing.LuceneWorkload;

import java.nio.file.FileSystems;
import java.nio.file.Path;

/**
 * Lucene, unmodified, in the directory {@code args[0]}: prints the default
 * provider's class ({@code provider=}), the class of the channel behind an
 * index input ({@code channel=}), and the workload's lines
 * ({@code result.N=}).
 */
public final class LuceneOnDefaultProvider {
    private LuceneOnDefaultProvider() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        System.out.println("provider=" + FileSystems.getDefault().provider().getClass().getName());
        var results = LuceneWorkload.indexAndSearch(dir);
        for (int i = 0; i < results.size(); i++) {
            System.out.println("result." + i + "=" + results.get(i));
        }
        System.out.println("channel=" + LuceneWorkload.channelClassOfAnInput(dir));
    }
}
