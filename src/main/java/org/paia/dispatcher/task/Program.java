package org.paia.dispatcher.task;

/**
 * One user program of a task: a blob, or a blob prefix (a folder of files), in the configured
 * storage account.
 *
 * @param container the blob container, e.g. {@code user-102}
 * @param blobPath  the blob name or prefix inside it, e.g. {@code kart_3d/code-855}
 */
public record Program(String url, String codeName, String container, String blobPath) {
}
