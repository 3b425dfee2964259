/* The engine's memory allocator: size classes with free lists for small blocks, glibc for the rest.
 *
 * QuickJS allocates and frees constantly (objects, strings, shapes, property arrays), and through its
 * default functions every allocation costs glibc's malloc, QuickJS's wrapper and a malloc_usable_size call
 * for its accounting: 17% of the guest instructions smss ran between its start and the logon prompt. Here
 * a small block (at most SMALL_LIMIT bytes with its header) comes from the free list of its size class, or
 * is cut from the current chunk; a freed one goes back on its list. Blocks are never handed back to
 * glibc: the resident programs reuse what they free, and short-lived ones exit. One thread per process
 * (the runtime starts none), so no locking.
 *
 * Every block has a 4-byte header just before the memory handed out: the block's size for a small block
 * (a multiple of 8, its class), LARGE for glibc's. Blocks start at 4 mod 8, so what the engine gets is
 * 8-byte aligned, as glibc's malloc would give it at least. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include "allocator.h"

#define HEADER 4u
#define GRANULE 8u
#define SMALL_LIMIT 1024u
#define CLASS_COUNT (SMALL_LIMIT / GRANULE + 1)
#define CHUNK_SIZE (64u * 1024u)
#define LARGE 0u
/* What QuickJS counts per allocation besides its usable size (its own MALLOC_OVERHEAD). */
#define OVERHEAD 8u

typedef struct FreeBlock {
    struct FreeBlock *next;
} FreeBlock;

static FreeBlock *free_lists[CLASS_COUNT];
static uint8_t *chunk_next;
static uint8_t *chunk_end;

static inline uint32_t *header_of(void *payload)
{
    return (uint32_t *)((uint8_t *)payload - HEADER);
}

static inline size_t block_size_for(size_t size)
{
    /* A free block holds its list link (the host's 64-bit compiler runs this allocator too). */
    if (size < sizeof(FreeBlock))
        size = sizeof(FreeBlock);
    return (size + HEADER + GRANULE - 1) & ~(size_t)(GRANULE - 1);
}

static void *carve(uint32_t block_size)
{
    if ((size_t)(chunk_end - chunk_next) < block_size) {
        uint8_t *chunk = malloc(CHUNK_SIZE);
        if (!chunk)
            return NULL;
        /* glibc aligns to 16: the first block starts 4 bytes in, so its payload is 8-aligned. */
        chunk_next = chunk + HEADER;
        chunk_end = chunk + CHUNK_SIZE;
    }
    uint8_t *block = chunk_next;
    chunk_next += block_size;
    *(uint32_t *)block = block_size;
    return block + HEADER;
}

static void *allocate(size_t size)
{
    size_t block_size = block_size_for(size);
    if (block_size <= SMALL_LIMIT) {
        FreeBlock *block = free_lists[block_size / GRANULE];
        if (block) {
            free_lists[block_size / GRANULE] = block->next;
            return block;
        }
        return carve((uint32_t)block_size);
    }
    uint8_t *memory = malloc(size + 2 * HEADER);
    if (!memory)
        return NULL;
    *(uint32_t *)(memory + HEADER) = LARGE;
    return memory + 2 * HEADER;
}

static void release(void *payload)
{
    uint32_t block_size = *header_of(payload);
    if (block_size == LARGE) {
        free((uint8_t *)payload - 2 * HEADER);
        return;
    }
    FreeBlock *block = payload;
    block->next = free_lists[block_size / GRANULE];
    free_lists[block_size / GRANULE] = block;
}

static size_t usable_size(const void *payload)
{
    if (!payload)
        return 0;
    uint32_t block_size = *header_of((void *)payload);
    if (block_size == LARGE)
        return malloc_usable_size((uint8_t *)payload - 2 * HEADER) - 2 * HEADER;
    return block_size - HEADER;
}

static void *engine_malloc(JSMallocState *state, size_t size)
{
    if (state->malloc_size + size > state->malloc_limit)
        return NULL;
    void *payload = allocate(size);
    if (!payload)
        return NULL;
    state->malloc_count++;
    state->malloc_size += usable_size(payload) + OVERHEAD;
    return payload;
}

static void engine_free(JSMallocState *state, void *payload)
{
    if (!payload)
        return;
    state->malloc_count--;
    state->malloc_size -= usable_size(payload) + OVERHEAD;
    release(payload);
}

static void *engine_realloc(JSMallocState *state, void *payload, size_t size)
{
    if (!payload)
        return size == 0 ? NULL : engine_malloc(state, size);
    size_t old_size = usable_size(payload);
    if (size == 0) {
        engine_free(state, payload);
        return NULL;
    }
    if (state->malloc_size + size - old_size > state->malloc_limit)
        return NULL;
    /* A block that still fits and would not move to a smaller class stays where it is. */
    if (*header_of(payload) != LARGE && size <= old_size && block_size_for(size) == old_size + HEADER)
        return payload;
    void *moved;
    if (*header_of(payload) == LARGE && block_size_for(size) > SMALL_LIMIT) {
        uint8_t *memory = realloc((uint8_t *)payload - 2 * HEADER, size + 2 * HEADER);
        if (!memory)
            return NULL;
        moved = memory + 2 * HEADER;
    } else {
        moved = allocate(size);
        if (!moved)
            return NULL;
        memcpy(moved, payload, old_size < size ? old_size : size);
        release(payload);
    }
    state->malloc_size += usable_size(moved) - old_size;
    return moved;
}

const JSMallocFunctions engine_allocator = {
    engine_malloc,
    engine_free,
    engine_realloc,
    usable_size,
};
